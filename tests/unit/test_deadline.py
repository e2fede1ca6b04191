"""One clock per run: the Deadline crosses processes, the trial loop says why it stopped, workers keep to the run's.

No training: the loop runs cheap objectives against a real SQLite study (as in test_storage.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch.config import StudyConfig
from stacksearch.search.loop import Deadline, StopReason, _work
from stacksearch.search.pool import RECYCLE_EXIT, _pool_reason, read_worker_file, write_worker_config
from stacksearch.search.worker import exit_code
from stacksearch.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def _config(n_trials: int, **study) -> StudyConfig:
    return StudyConfig.model_validate(
        {"benchmark": {"name": "adding"}, "study": {"name": "s", "n_trials": n_trials, **study}}
    )


def _study(tmp_path) -> optuna.Study:
    return optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'o.db'}", heartbeat=False), study_name="s")


def _cheap(trial: optuna.Trial) -> float:
    return float(trial.suggest_int("depth", 1, 3))


def _complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def test_a_deadline_crosses_a_json_round_trip():
    for deadline in (Deadline.after(30), Deadline.after(None), Deadline(1_700_000_000.123456)):
        assert Deadline.from_json(json.loads(json.dumps(deadline.to_json()))) == deadline
    assert Deadline.after(None) == Deadline() and Deadline().to_json() is None


def test_remaining_counts_from_the_start_and_is_never_negative():
    assert Deadline.after(60, start=1000.0).remaining(now=1045.0) == 15.0
    assert 9.0 < Deadline.after(60, start=time.time() - 50).remaining() <= 10.0  # the run began 50 s ago
    passed = Deadline.after(10, start=time.time() - 3600)
    assert passed.remaining() == 0.0 and passed.expired()
    assert Deadline(0.0).remaining() == 0.0
    assert Deadline().remaining() == float("inf") and not Deadline().expired()
    assert not Deadline.after(60).expired()


def test_the_loop_stops_at_the_target(tmp_path):
    study = _study(tmp_path)
    assert _work(study, _cheap, _config(3), [], threading.Event(), deadline=Deadline.after(600)) is StopReason.TARGET
    assert _complete(study) == 3


def test_the_loop_starts_no_trial_after_the_deadline(tmp_path):
    study = _study(tmp_path)
    past = Deadline(time.time() - 1)
    assert _work(study, _cheap, _config(5), [], threading.Event(), deadline=past) is StopReason.DEADLINE
    assert study.trials == []
    soon = Deadline.after(0.3)

    def slow(trial: optuna.Trial) -> float:  # the deadline passes during the first trial
        time.sleep(soon.remaining() + 0.05)
        return _cheap(trial)

    assert _work(study, slow, _config(5), [], threading.Event(), deadline=soon) is StopReason.DEADLINE
    assert _complete(study) == 1  # the running trial ends; no other starts


def test_the_loop_stops_when_asked(tmp_path):
    study, stop = _study(tmp_path), threading.Event()

    def stopping(trial: optuna.Trial) -> float:  # Ctrl-C during the first trial
        stop.set()
        return _cheap(trial)

    assert _work(study, stopping, _config(5), [], stop) is StopReason.STOPPED
    assert _complete(study) == 1
    assert _work(study, _cheap, _config(1), [], stop) is StopReason.TARGET  # a study that is done says so


def test_the_loop_leaves_for_recycling_only_with_work_left(tmp_path):
    study = _study(tmp_path)
    assert _work(study, _cheap, _config(5), [], threading.Event(), 2) is StopReason.RECYCLE
    assert _complete(study) == 2
    assert _work(study, _cheap, _config(4), [], threading.Event(), 2) is StopReason.TARGET  # done: no replacement
    assert _complete(study) == 4


def test_the_loop_waiting_for_another_workers_last_trial_stops_at_the_deadline(tmp_path):
    study = _study(tmp_path)
    study._storage.create_new_trial(study._study_id)  # running on another worker
    began = time.monotonic()
    assert _work(study, _cheap, _config(1), [], threading.Event(), deadline=Deadline.after(0.2)) is StopReason.DEADLINE
    assert time.monotonic() - began < 1.5  # not a whole poll interval (2 s) after the deadline
    assert [t.state for t in study.trials] == [TrialState.RUNNING]


@pytest.mark.parametrize("reason, code", [("target", 0), ("deadline", 0), ("stopped", 0), ("recycle", RECYCLE_EXIT)])
def test_a_worker_asks_for_a_replacement_only_when_it_left_for_recycling(reason, code):
    assert exit_code(StopReason(reason)) == code


def test_the_pool_says_why_its_workers_left():
    stop, past, future = threading.Event(), Deadline(time.time() - 1), Deadline.after(600)
    assert _pool_reason(True, stop, past) is StopReason.TARGET
    assert _pool_reason(False, stop, past) is StopReason.DEADLINE
    stop.set()
    assert (
        _pool_reason(False, stop, past) is StopReason.STOPPED and _pool_reason(True, stop, future) is StopReason.TARGET
    )


def test_the_worker_file_carries_the_runs_deadline(tmp_path):
    config = _config(5, timeout=600, workers=3)
    deadline = Deadline(time.time() + 42.5)
    back, again = read_worker_file(write_worker_config(config, tmp_path / "a.json", deadline=deadline))
    assert again == deadline and back.study.timeout == 600 and back.study.workers == 1
    _, default = read_worker_file(write_worker_config(config, tmp_path / "b.json"))
    assert 590 < default.remaining() <= 600  # without one: study.timeout from writing the file
    _, never = read_worker_file(write_worker_config(_config(5), tmp_path / "c.json"))
    assert never == Deadline()


def test_a_worker_counts_its_timeout_from_the_start_of_the_run(tmp_path):
    """A worker started after the run's deadline (600 s of its own left before) starts no trial."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    config = _config(50, timeout=600, storage=url)
    path = write_worker_config(config, tmp_path / "w.json", deadline=Deadline.after(600, start=time.time() - 601))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        done = subprocess.run(
            [sys.executable, "-m", "stacksearch.search.worker", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    trials = optuna.load_study(study_name="s", storage=url).trials if (tmp_path / "w.db").exists() else []
    assert trials == []
