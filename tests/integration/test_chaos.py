"""Crashes lose nothing: SIGKILL a worker mid-trial; its trial ends FAIL, is retried on a
surviving worker from its last epoch's checkpoint, and the study still stops at n_trials.

PostgreSQL comes from STACKSEARCH_TEST_DB_URL (skipped, with the reason, where unset or
unreachable); the SQLite variant needs no server.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
import warnings

import optuna
import pytest
from optuna.trial import TrialState

import stacksearch as ss
from stacksearch.checkpoint import CheckpointStore
from stacksearch.storage import open_storage
from tests.support.servers import MlflowServer
from tests.support.workers import FINISHED, PASSWORD, check_exact, finish, start_run, study_yaml, with_password

pytestmark = pytest.mark.integration
EPOCHS = 12


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real ``mlflow server`` on 127.0.0.1 of this module's own."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-chaos")).start()
    yield server
    server.stop()


def _kill_mid_trial(proc, storage_url: str, name: str, timeout: float = 240.0):
    """Wait for a first-run trial with >= 2 checkpointed epochs and epochs to go; SIGKILL its worker."""
    deadline = time.monotonic() + timeout
    storage = open_storage(storage_url, heartbeat=False)
    study = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before a trial could be killed:\n{proc.stdout.read()[-3000:]}")
        try:
            study = study or optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            time.sleep(0.2)
            continue
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            epochs_done = len(trial.intermediate_values)
            if "failed_trial" in trial.system_attrs or not 2 <= epochs_done <= EPOCHS - 4:
                continue
            if not any(key.startswith("artifacts:") for key in trial.system_attrs):
                continue
            pid = int(trial.user_attrs["worker"].rsplit(":", 1)[1])
            completed = {t.number: t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
            os.kill(pid, signal.SIGKILL)
            return trial.number, epochs_done, pid, completed
        time.sleep(0.05)
    pytest.fail("no trial was seen mid-way in time")


def _check_recovery(
    study: optuna.Study, killed: int, epochs_done: int, completed: dict, n_trials: int, checkpoints: str
) -> optuna.trial.FrozenTrial:
    check_exact(study, n_trials)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    dead = trials[killed]
    assert dead.state == TrialState.FAIL
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1, [(t.number, t.system_attrs.get("retry_history")) for t in retries]
    retry = retries[0]
    assert retry.state in FINISHED and retry.params == dead.params
    assert retry.system_attrs["retry_history"] == [killed]
    assert retry.user_attrs["worker"] != dead.user_attrs["worker"]
    # resumed from the last checkpoint seen before the kill (or a later one), not from scratch
    assert epochs_done - 1 <= retry.user_attrs["resumed_from_epoch"] < EPOCHS
    assert retry.user_attrs["epochs_trained"] == EPOCHS == len(retry.user_attrs["history"]["loss"])
    assert sorted(retry.intermediate_values) == list(range(EPOCHS))
    for number, value in completed.items():  # nothing completed is lost or changed
        assert trials[number].state == TrialState.COMPLETE and trials[number].value == value
    for trial in trials.values():  # every other FAIL is a race surplus, never a lost result
        if trial.state == TrialState.FAIL and trial.number != killed:
            assert "surplus" in trial.user_attrs.get("fail_reason", ""), trial
    assert not [p for p in os.listdir(checkpoints)], "finished trials leave no checkpoint files"
    return retry


def test_three_workers_on_postgresql_survive_a_sigkill_and_stop_at_exactly_n_trials(
    tmp_path, cleanup, mlflow_server, server_url
):
    url = server_url("postgresql")
    name = f"chaos-pg-{uuid.uuid4().hex[:8]}"
    cleanup.append((name, url))
    study_file = study_yaml(tmp_path, name, n_trials=6, epochs=EPOCHS, chaos=True, tracking=mlflow_server.uri)
    proc = start_run(tmp_path, study_file, 3, with_password(url) or url)  # in the environment, never printed
    killed, epochs_done, pid, completed = _kill_mid_trial(proc, url, name)
    out = finish(proc)
    assert "trials: 6/6 finished" in out, out[-3000:]
    assert "killed by SIGKILL" in out and PASSWORD not in out
    study = optuna.load_study(study_name=name, storage=url)
    retry = _check_recovery(study, killed, epochs_done, completed, 6, str(tmp_path / "checkpoints"))
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    assert len({t.user_attrs["worker"] for t in finished}) >= 2

    import mlflow

    from tests.support.tracking import run_tree

    tree = run_tree(mlflow.MlflowClient(mlflow_server.uri), study)
    assert len(tree.parents) == 1  # one parent run for all three workers
    assert study.user_attrs["mlflow_parent_run_id"] == tree.parent.info.run_id
    assert tree.child(killed).info.status in ("FAILED", "KILLED")  # the dead trial's run is terminal
    for trial in finished:
        assert tree.child(trial.number).info.status in ("FINISHED", "KILLED")
    assert tree.child(retry.number).data.tags["mlflow.parentRunId"] == tree.parent.info.run_id
    assert PASSWORD not in str(tree.parent.data.params) + str(tree.parent.data.tags)


def test_killed_worker_on_sqlite_with_four_local_workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    name = f"chaos-sqlite-{uuid.uuid4().hex[:8]}"
    study_file = study_yaml(tmp_path, name, n_trials=6, epochs=EPOCHS, chaos=True)
    proc = start_run(tmp_path, study_file, 4, url)
    killed, epochs_done, pid, completed = _kill_mid_trial(proc, url, name)
    out = finish(proc)
    assert "trials: 6/6 finished" in out, out[-3000:]
    assert "database is locked" not in out
    study = optuna.load_study(study_name=name, storage=url)
    _check_recovery(study, killed, epochs_done, completed, 6, str(tmp_path / "checkpoints"))


def test_retried_trial_resumes_from_its_last_epoch_in_process(tmp_path, tiny_regression):
    """The checkpoint round trip without processes: crash after epoch 2, retry, resume at 3."""

    class Crash:
        def on_trial_start(self, trial, spec):
            pass

        def on_epoch_end(self, trial, epoch, logs):
            if trial.number == 0 and epoch == 2:
                raise SystemExit("worker dies")

        def on_trial_end(self, trial, model, value):
            pass

    url = f"sqlite:///{tmp_path / 'resume.db'}"
    storage = open_storage(url, heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage, study_name="resume", direction="minimize")
    store = CheckpointStore.for_config(url)
    objective = ss.StackedLSTMObjective(
        tiny_regression,
        ss.SearchSpace(depth=(1, 2), units=(4, 8)),
        epochs=5,
        patience=None,
        listeners=[Crash()],
        checkpoints=store,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ask() without optimize(): no heartbeat, on purpose
        trial = study.ask()
    with pytest.raises(SystemExit):
        objective(trial)
    assert len(os.listdir(store.folder)) == 1  # only the newest epoch's file is kept
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    storage.heartbeat_stale_trial_callback(study, storage.get_trial(trial._trial_id))
    study.optimize(objective, n_trials=1)
    retry = study.trials[1]
    assert retry.state == TrialState.COMPLETE and retry.params == study.trials[0].params
    assert retry.user_attrs["resumed_from_epoch"] == 1  # epochs 0 and 1 were saved before the crash
    assert retry.user_attrs["epochs_trained"] == 5 == len(retry.user_attrs["history"]["val_mse"])
    assert sorted(retry.intermediate_values) == [0, 1, 2, 3, 4]
    assert retry.user_attrs["history"]["val_mse"][:2] == [study.trials[0].intermediate_values[e] for e in (0, 1)]
    assert os.listdir(store.folder) == []
