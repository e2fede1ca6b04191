"""Several workers share one study on a real database server and stop at exactly n_trials.

Also the helpers of test_chaos.py (which runs the PostgreSQL topology with MLflow).

Servers come from STACKSEARCH_TEST_DB_URL (PostgreSQL) and STACKSEARCH_TEST_MYSQL_URL
(MariaDB/MySQL); without them the tests skip with the reason (CI sets both and fails on
skips). Each test makes its own study name and deletes what it made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from stacksearch.storage import mask_url
from tests.conftest_mlflow import mlflow_db_template  # noqa: F401 - fixture

pytestmark = pytest.mark.integration
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
PASSWORD = "s3cret-never-printed"


def server_url(variable: str, what: str) -> str:
    """The URL in ``variable`` if its server answers; otherwise skip, saying why."""
    url = os.environ.get(variable)
    if not url:
        pytest.skip(
            f"{variable} is not set: no {what} server to test against "
            f"(CI sets it; e.g. {variable}=postgresql+psycopg://root@127.0.0.1:5432/test)"
        )
    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any failure means: not reachable here
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        pytest.skip(f"{what} at {mask_url(url)} is not reachable: {reason}")
    return url


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
    training = (
        "{epochs: %d, batch_size: 32, patience: null}" % epochs if chaos else "{epochs: %d, batch_size: 64}" % epochs
    )
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


@pytest.fixture
def cleanup() -> Iterator[list[tuple[str, str]]]:
    """Register (study name, storage URL) pairs; each study is deleted after the test."""
    made: list[tuple[str, str]] = []
    yield made
    for name, url in made:
        try:
            optuna.delete_study(study_name=name, storage=url)
        except KeyError:
            pass


def check_exact(study: optuna.Study, n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """Exactly ``n_trials`` finished, distinct numbers, every other trial a surplus or stale FAIL."""
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(len(trials)))
    finished = [t for t in trials if t.state in FINISHED]
    assert len(finished) == n_trials, [(t.number, t.state.name) for t in trials]
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    return finished


def test_three_workers_on_mariadb_stop_at_exactly_n_trials(tmp_path, cleanup):
    """PostgreSQL runs the same topology, with MLflow and a SIGKILL, in test_chaos.py."""
    url = server_url("STACKSEARCH_TEST_MYSQL_URL", "MariaDB/MySQL")
    name = f"workers-mysql-{uuid.uuid4().hex[:8]}"
    cleanup.append((name, url))
    out = finish(start_run(tmp_path, study_yaml(tmp_path, name, n_trials=6), 3, url))
    assert "trials: 6/6 finished" in out, out[-3000:]
    study = optuna.load_study(study_name=name, storage=url)
    finished = check_exact(study, 6)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        assert "surplus" in trial.user_attrs.get("fail_reason", ""), trial
    assert len({t.user_attrs["worker"] for t in finished}) >= 2, "one worker ran every trial"
    assert not os.listdir(tmp_path / "checkpoints")


def test_one_worker_is_replaced_by_a_fresh_process_after_recycle_after_trials(tmp_path, mlflow_db_template):
    """TensorFlow keeps memory from every trial: `run` hands the study to a new process every 2 trials here."""
    import mlflow

    from tests.conftest_mlflow import check_tree, copy_db

    url = f"sqlite:///{tmp_path / 'recycle.db'}"
    tracking = copy_db(mlflow_db_template, tmp_path / "mlflow.db")
    study_file = study_yaml(tmp_path, "recycle", n_trials=5, recycle_after=2, tracking=tracking)
    out = finish(start_run(tmp_path, study_file, 1, url))
    assert "trials: 5/5 finished" in out, out[-3000:]
    study = optuna.load_study(study_name="recycle", storage=url)
    trials = check_exact(study, 5)
    tree = check_tree(mlflow.MlflowClient(tracking), study)  # one parent run across the three processes
    assert tree.parent.info.status == "FINISHED"
    workers = [t.user_attrs["worker"] for t in sorted(trials, key=lambda t: t.number)]
    assert workers[0] == workers[1] != workers[2] == workers[3] != workers[4], workers
    assert workers[0] != workers[4] and os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
    params = [t.params for t in sorted(trials, key=lambda t: t.number)]
    assert params[2] != params[0] and params[4] != params[0], (
        "a replacement process sampled its predecessor's trials again"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_timeout_counts_from_the_start_of_the_command_in_one_process_or_several(tmp_path, workers):
    """A timeout shorter than starting up (imports, data) runs no trial, in this process or in workers."""
    url = f"sqlite:///{tmp_path / 'timeout.db'}"
    proc = start_run(tmp_path, study_yaml(tmp_path, "timeout", n_trials=20), workers, url, "--timeout", "0.5")
    out = finish(proc)
    assert proc.returncode == 0, out[-3000:]
    assert "timeout: 0.5 s since the command started" in out and "trials: 0/20 finished" in out, out[-3000:]
    assert optuna.load_study(study_name="timeout", storage=url).trials == []
