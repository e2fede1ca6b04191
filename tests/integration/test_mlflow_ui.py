"""The MLflow UI after a small study run by the runner: headless Chromium finds the trial runs
nested under the study's parent run and takes a screenshot (scripts/mlflow_ui_screenshot.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from stacksearch.tracking import MLflowTracker
from tests.support.tracking import check_tree

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STUDY = """
study: {name: ui-check, n_trials: 3, seed: 3, sampler: random, pruner: none}
benchmark: {name: adding, args: {length: 10, n_train: 128, n_val: 64, n_test: 64}}
space: {depth: [1, 2], units: [4, 8], learning_rate: [0.001, 0.01]}
training: {epochs: 2, batch_size: 64}
report: false
"""


def test_ui_shows_the_nested_trial_runs(tmp_path: Path) -> None:
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("Chromium is missing: apt-get install chromium")
    (tmp_path / "ui.yaml").write_text(STUDY, encoding="utf-8")
    shot = tmp_path / "mlflow-ui.png"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "mlflow_ui_screenshot.py"),
            "--study-file",
            str(tmp_path / "ui.yaml"),
            "--workdir",
            str(tmp_path / "work"),
            "--out",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "nested runs trial-0, trial-1, trial-2 shown under 'ui-check'" in done.stdout
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    study = optuna.load_study(study_name="ui-check", storage=f"sqlite:///{tmp_path / 'work' / 'stacksearch.db'}")
    tree = check_tree(MLflowTracker(f"sqlite:///{tmp_path / 'work' / 'mlflow.db'}").client, study)
    assert tree.parent.data.tags["stacksearch.best_model_uri"].endswith("/model")
    assert tree.parent.data.params["space.depth"] == "[1, 2]"
