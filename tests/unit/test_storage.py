"""Storage: password masking, heartbeats, stale-trial hooks and retries, serialised SQLite, target guard.

No training: trials are made with ask/tell, ``create_trial`` or trivial objectives. The
stale-trial rules also run on PostgreSQL (STACKSEARCH_TEST_DB_URL) and MariaDB/MySQL
(STACKSEARCH_TEST_MYSQL_URL); without them those cases skip, saying why.
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import threading
import uuid
import warnings
from collections.abc import Iterator

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch.config import StudyConfig
from stacksearch.exceptions import ConfigError, StorageError
from stacksearch.search.loop import _TargetGuard, _work
from stacksearch.storage import (
    StaleTrialHandler,
    add_stale_hook,
    check_url,
    fail_stale_trials,
    mask_url,
    open_storage,
    orphan_trial_ids,
)
from tests.support.storage import backdate
from tests.support.studies import time_zone

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def _config(n_trials: int) -> StudyConfig:
    return StudyConfig.model_validate({"benchmark": {"name": "adding"}, "study": {"name": "s", "n_trials": n_trials}})


def _study(tmp_path, **kwargs) -> optuna.Study:
    storage = open_storage(f"sqlite:///{tmp_path / 'o.db'}", **kwargs)
    return optuna.create_study(storage=storage, study_name="s", load_if_exists=True)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://me:secret@db:5432/optuna", "postgresql+psycopg://me:***@db:5432/optuna"),
        ("mysql+pymysql://root:p%40ss@127.0.0.1:3306/test", "mysql+pymysql://root:***@127.0.0.1:3306/test"),
        ("sqlite:///study.db", "sqlite:///study.db"),
        ("not a url://x:secret@host", "not a url://x:***@host"),
    ],
)
def test_mask_url_hides_passwords(url, shown):
    assert mask_url(url) == shown


def test_unsupported_and_unreachable_storage_errors_name_the_url_without_its_password():
    with pytest.raises(ConfigError, match="unsupported storage URL 'redis://u:\\*\\*\\*@h'"):
        check_url("redis://u:hunter2@h")
    with pytest.raises(StorageError) as err:
        open_storage("postgresql+psycopg://me:hunter2@127.0.0.1:1/optuna")
    assert "hunter2" not in str(err.value) and "me:***@127.0.0.1:1" in str(err.value)


def test_open_storage_sets_heartbeat_grace_and_retry(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'a.db'}", heartbeat_interval=2, grace_period=7, max_retry=5)
    assert (storage.heartbeat_interval, storage.grace_period) == (2, 7)
    handler = storage.get_heartbeat_stale_trial_callback()
    assert isinstance(handler, StaleTrialHandler)
    assert isinstance(handler.retry, optuna.storages.RetryHeartbeatStaleTrialCallback)
    plain = open_storage(f"sqlite:///{tmp_path / 'b.db'}", heartbeat=False)
    assert plain.heartbeat_interval is None and plain.get_heartbeat_stale_trial_callback() is None
    with pytest.raises(ConfigError, match="whole seconds"):
        open_storage(f"sqlite:///{tmp_path / 'c.db'}", heartbeat_interval=0)


def test_grace_period_must_exceed_the_heartbeat_interval():
    with pytest.raises(Exception, match="grace_period"):
        StudyConfig.model_validate(
            {"benchmark": {"name": "adding"}, "study": {"heartbeat_interval": 10, "grace_period": 10}}
        )


def test_sqlite_uses_wal_busy_timeout_and_immediate_transactions(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'w.db'}")
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000
        assert connection.connection.dbapi_connection.in_transaction  # BEGIN IMMEDIATE was issued


def _stale_trial(study: optuna.Study, **user_attrs) -> optuna.trial.FrozenTrial:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ask() outside optimize(): no heartbeat thread
        trial = study.ask()
    trial.suggest_int("depth", 1, 3)
    for key, value in user_attrs.items():
        trial.set_user_attr(key, value)
    study._storage.record_heartbeat(trial._trial_id)
    study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    return study._storage.get_trial(trial._trial_id)


def test_stale_trial_runs_hooks_then_queues_a_clean_retry(tmp_path, caplog):
    study = _study(tmp_path, heartbeat_interval=1, grace_period=2)
    seen: list[tuple[int, str]] = []

    def broken(study, trial):
        raise RuntimeError("tracking down")

    assert add_stale_hook(study._storage, broken)  # through Optuna's cached storage
    assert add_stale_hook(study._storage, lambda s, t: seen.append((t.number, t.state.name)))
    dead = _stale_trial(study, mlflow_run_id="abc", depth=2, worker="host:1")
    with caplog.at_level(logging.WARNING):
        study._storage.get_heartbeat_stale_trial_callback()(study, dead)
    assert seen == [(0, "FAIL")]
    assert "tracking down" in caplog.text  # a failing hook is logged, and the retry still happens
    retry = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))[0]
    assert retry.params == dead.params
    assert retry.system_attrs["failed_trial"] == 0 and retry.system_attrs["retry_history"] == [0]
    assert retry.user_attrs == {"depth": 2}  # not the dead trial's MLflow run or worker


def test_retries_stop_after_max_retry(tmp_path):
    study = _study(tmp_path, heartbeat_interval=1, grace_period=2, max_retry=1)
    handler = study._storage.get_heartbeat_stale_trial_callback()
    handler(study, _stale_trial(study))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        retried = study.ask()  # pops the queued retry
    assert retried.number == 1 and study._storage.get_trial(retried._trial_id).system_attrs["failed_trial"] == 0
    study._storage.set_trial_state_values(retried._trial_id, TrialState.FAIL)
    handler(study, study._storage.get_trial(retried._trial_id))
    assert not study.get_trials(deepcopy=False, states=(TrialState.WAITING,))


def test_heartbeat_detects_a_silent_trial_and_a_survivor_retries_it(tmp_path):
    study = _study(tmp_path, heartbeat_interval=1, grace_period=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dead = study.ask()
    dead.suggest_int("depth", 1, 3)
    study._storage.record_heartbeat(dead._trial_id)  # ... and then the worker is gone
    fail_stale_trials(study)
    assert study._storage.get_trial(dead._trial_id).state == TrialState.RUNNING  # within the grace period
    threading.Event().wait(3.2)
    _work(
        study, _TargetGuard(lambda t: float(t.suggest_int("depth", 1, 3)), 1, False), _config(1), [], threading.Event()
    )  # a surviving worker: fails the stale trial, then runs its retry
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE]
    assert trials[1].params == trials[0].params and trials[1].system_attrs["failed_trial"] == 0
    assert trials[0].user_attrs["fail_reason"].startswith("worker lost: no heartbeat for 2 s")
    assert "fail_reason" not in trials[1].user_attrs


def _pop(url: str, name: str, n: int, out) -> None:
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    got, errors = [], []
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url, heartbeat=False))
        for _ in range(n):
            trial = study.ask()
            got.append(trial.number)
            try:
                study.tell(trial, 0.0)
            except Exception as err:  # noqa: BLE001 - another worker told the same trial
                errors.append(f"{type(err).__name__}: {err}")
    finally:
        out.put((got, errors))


@pytest.mark.integration  # four worker processes contending for one file
def test_sqlite_workers_never_pop_the_same_queued_trial(tmp_path):
    """Without BEGIN IMMEDIATE, about a quarter of queued trials ran twice (docs/scaling.md)."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    study = optuna.create_study(storage=open_storage(url, heartbeat=False), study_name="q")
    for index in range(60):
        study.enqueue_trial({"depth": index % 3 + 1}, skip_if_exists=False)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_pop, args=(url, "q", 15, out)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    popped = [n for got, _ in results for n in got]
    assert [e for _, errors in results for e in errors] == []
    assert sorted(popped) == list(range(60))
    assert all(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))


def test_target_guard_fails_a_surplus_trial_without_running_it(tmp_path):
    study = _study(tmp_path, heartbeat=False)
    for value in (1.0, 2.0):
        study.add_trial(optuna.trial.create_trial(value=value))
    calls = []
    guard = _TargetGuard(lambda t: calls.append(t.number) or 0.0, n_trials=2, multi=False)
    study.optimize(guard, n_trials=1)
    surplus = study.trials[-1]
    assert surplus.state == TrialState.FAIL and "surplus" in surplus.user_attrs["fail_reason"]
    assert calls == [] and surplus.user_attrs["worker"].count(":") == 1


def test_a_trial_failed_as_stale_while_it_ran_does_not_stop_the_worker(tmp_path):
    """A starved worker's trial is failed and retried by another; this worker goes on."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = _study(tmp_path, heartbeat_interval=1, grace_period=2)
    other = optuna.load_study(study_name="s", storage=open_storage(url, heartbeat_interval=1, grace_period=2))

    def objective(trial: optuna.Trial) -> float:
        depth = trial.suggest_int("depth", 1, 3)
        if trial.number == 0:  # another worker declares this trial stale and queues its retry
            other._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            other._storage.get_heartbeat_stale_trial_callback()(other, other._storage.get_trial(trial._trial_id))
        return float(depth)

    guard = _TargetGuard(objective, n_trials=3, multi=False)
    _work(study, guard, _config(3), [], threading.Event())
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(TrialState.COMPLETE) == 3 and states[0] == TrialState.FAIL
    assert study.trials[1].system_attrs["failed_trial"] == 0
    assert not math.isnan(study.best_value)


@pytest.fixture
def kolkata() -> Iterator[None]:
    """Local time 5:30 h ahead of UTC: a rule that mixed local time and UTC would fail or miss trials."""
    with time_zone("Asia/Kolkata"):
        yield


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def beating_study(request: pytest.FixtureRequest, tmp_path, server_url) -> Iterator[optuna.Study]:
    """A new study with heartbeats every second and a 5 s grace period; deleted afterwards.

    The grace period leaves seconds of slack for a loaded machine and for MySQL, which
    stores times to the whole second.
    """
    url = f"sqlite:///{tmp_path / 'o.db'}" if request.param == "sqlite" else server_url(request.param)
    storage = open_storage(url, heartbeat_interval=1, grace_period=5)
    name = f"orphans-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(storage=storage, study_name=name)
    yield study
    optuna.delete_study(study_name=name, storage=storage)


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_failed_after_twice_the_grace_period(
    beating_study, kolkata
):
    study, storage = beating_study, beating_study._storage
    seen: list[tuple[int, str, str]] = []
    add_stale_hook(storage, lambda s, t: seen.append((t.number, t.state.name, t.user_attrs.get("fail_reason", ""))))

    def running() -> int:  # what study.ask() leaves when its worker dies before the first heartbeat
        return storage.create_new_trial(study._study_id)

    orphan, young, fresh, beating, silent = (running() for _ in range(5))
    backdate(study, orphan, 12)  # over 2 x grace (10 s): its worker is gone
    backdate(study, young, 6)  # over the grace period but within 2 x: a slow first heartbeat is allowed
    storage.record_heartbeat(silent)
    backdate(study, silent, 8, heartbeat=True)  # heartbeats stopped: Optuna's own rule
    backdate(study, beating, 60)  # a long trial whose worker is alive
    storage.record_heartbeat(beating)
    assert orphan_trial_ids(storage._backend, study._study_id, 10) == [orphan]
    fail_stale_trials(study)
    fail_stale_trials(study)  # a second worker that looks finds nothing more to do
    state = {t._trial_id: t for t in study.get_trials(deepcopy=False)}
    assert [state[i].state for i in (orphan, young, fresh, beating, silent)] == [
        TrialState.FAIL,
        TrialState.RUNNING,
        TrialState.RUNNING,
        TrialState.RUNNING,
        TrialState.FAIL,
    ]
    assert state[orphan].user_attrs["fail_reason"].startswith("worker lost: no heartbeat ever arrived in 10 s")
    assert state[silent].user_attrs["fail_reason"].startswith("worker lost: no heartbeat for 5 s")
    numbers = {state[orphan].number, state[silent].number}
    assert {(n, s) for n, s, _ in seen} == {(n, "FAIL") for n in numbers} and all(r for _, _, r in seen)
    retries = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert sorted(t.system_attrs["failed_trial"] for t in retries) == sorted(numbers)  # one retry each


def test_storages_without_heartbeats_keep_their_running_trials(tmp_path):
    study = _study(tmp_path, heartbeat=False)
    trial_id = study._storage.create_new_trial(study._study_id)
    backdate(study, trial_id, 3600)
    fail_stale_trials(study)
    memory = optuna.create_study()
    memory._storage.create_new_trial(memory._study_id)
    fail_stale_trials(memory)
    assert [t.state for t in study.trials + memory.trials] == [TrialState.RUNNING, TrialState.RUNNING]
