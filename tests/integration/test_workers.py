"""Several workers share one study on a real database server and stop at exactly n_trials.

Servers come from STACKSEARCH_TEST_DB_URL (PostgreSQL) and STACKSEARCH_TEST_MYSQL_URL
(MariaDB/MySQL); without them the tests skip with the reason (CI sets both and fails on
skips). Each test makes its own study name and deletes what it made. The run helpers are
in tests/support/workers.py (test_chaos.py uses them too).
"""

from __future__ import annotations

import os
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from tests.support.workers import check_exact, finish, start_run, study_yaml

pytestmark = pytest.mark.integration


def test_three_workers_on_mariadb_stop_at_exactly_n_trials(tmp_path, cleanup, server_url):
    """PostgreSQL runs the same topology, with MLflow and a SIGKILL, in test_chaos.py."""
    url = server_url("mysql")
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

    from tests.support.tracking import check_tree, copy_db

    url = f"sqlite:///{tmp_path / 'recycle.db'}"
    tracking = copy_db(mlflow_db_template, tmp_path / "mlflow.db")
    study_file = study_yaml(tmp_path, "recycle", n_trials=3, recycle_after=2, tracking=tracking)
    out = finish(start_run(tmp_path, study_file, 1, url))
    assert "trials: 3/3 finished" in out, out[-3000:]
    study = optuna.load_study(study_name="recycle", storage=url)
    trials = check_exact(study, 3)
    tree = check_tree(mlflow.MlflowClient(tracking), study)  # one parent run across the two processes
    assert tree.parent.info.status == "FINISHED"
    workers = [t.user_attrs["worker"] for t in sorted(trials, key=lambda t: t.number)]
    assert workers[0] == workers[1] != workers[2], workers
    assert os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
    params = [t.params for t in sorted(trials, key=lambda t: t.number)]
    assert params[2] not in (params[0], params[1]), "a replacement process sampled its predecessor's trials again"


@pytest.mark.parametrize("workers", [1, 2])
def test_timeout_counts_from_the_start_of_the_command_in_one_process_or_several(tmp_path, workers):
    """A timeout shorter than starting up (imports, data) runs no trial, in this process or in workers."""
    url = f"sqlite:///{tmp_path / 'timeout.db'}"
    proc = start_run(tmp_path, study_yaml(tmp_path, "timeout", n_trials=20), workers, url, "--timeout", "0.5")
    out = finish(proc)
    assert proc.returncode == 0, out[-3000:]
    assert "timeout: 0.5 s since the command started" in out and "trials: 0/20 finished" in out, out[-3000:]
    assert optuna.load_study(study_name="timeout", storage=url).trials == []
