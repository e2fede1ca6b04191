"""Runs of ``stacksearch run --workers N`` in a subprocess, for the worker and crash tests.

Example:
    >>> out = finish(start_run(tmp_path, study_yaml(tmp_path, "s", n_trials=2), 2, url))  # doctest: +SKIP
    >>> check_exact(optuna.load_study(study_name="s", storage=url), 2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

__all__ = ["FINISHED", "PASSWORD", "check_exact", "finish", "start_run", "study_yaml", "with_password"]

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
PASSWORD = "s3cret-never-printed"


def with_password(url: str) -> str | None:
    """``url`` with a password the server ignores (trust auth), or None if it checks passwords."""
    parsed = make_url(url)
    if parsed.password:
        return None
    candidate = parsed.set(password=PASSWORD).render_as_string(hide_password=False)
    try:
        engine = sqlalchemy.create_engine(candidate, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception:  # noqa: BLE001 - the server checks passwords: cannot inject one
        return None
    return candidate


def study_yaml(
    folder: Path,
    name: str,
    *,
    n_trials: int,
    epochs: int = 2,
    chaos: bool = False,
    tracking: str | None = None,
    recycle_after: int | None = 20,
) -> Path:
    """A tiny study file; ``chaos`` makes trials long enough (many cheap epochs) to kill mid-way."""
    batches = "batch_size: 32, patience: null" if chaos else "batch_size: 64"
    training = f"{{epochs: {epochs}, {batches}}}"
    pruner = "none" if chaos else "hyperband"
    track = f"{{tracking_uri: '{tracking}', log_models: none}}" if tracking else "false"
    text = (
        f"study: {{name: {name}, n_trials: {n_trials}, seed: 3, sampler: random, pruner: {pruner}, "
        f"heartbeat_interval: 1, grace_period: 4, artifacts: '{folder / 'checkpoints'}', "
        f"recycle_after: {recycle_after or 'null'}}}\n"
        "benchmark: {name: adding, args: {length: 10, n_train: 128, n_val: 32, n_test: 32}}\n"
        "space: {depth: [1, 2], units: [4, 8], learning_rate: [0.001, 0.01]}\n"
        f"training: {training}\n"
        f"tracking: {track}\n"
        "report: false\n"
        "confirm: false\n"
    )
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def start_run(folder: Path, study_file: Path, workers: int, storage: str, *extra: str) -> subprocess.Popen:
    """``stacksearch run STUDY --workers N`` in a subprocess; the storage URL travels in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "STACKSEARCH_ARTIFACTS")}
    env.update(STACKSEARCH_STORAGE=storage, TF_CPP_MIN_LOG_LEVEL="3", MLFLOW_DISABLE_TELEMETRY="true", COLUMNS="200")
    command = [
        sys.executable,
        "-m",
        "stacksearch.cli",
        "run",
        str(study_file),
        "--workers",
        str(workers),
        "--no-report",
        *extra,
    ]
    return subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for the run; on a timeout kill its whole process group and fail with its output."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"stacksearch run did not finish in {timeout} s:\n{out[-4000:]}")
    return out


def check_exact(study: optuna.Study, n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """Exactly ``n_trials`` finished, distinct numbers, every other trial a surplus or stale FAIL."""
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(len(trials)))
    finished = [t for t in trials if t.state in FINISHED]
    assert len(finished) == n_trials, [(t.number, t.state.name) for t in trials]
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    return finished
