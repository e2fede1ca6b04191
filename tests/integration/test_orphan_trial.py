"""A worker killed between Optuna creating its trial and the trial's first heartbeat.

Its trial stays RUNNING with no heartbeat row, which Optuna's heartbeat rule never fails;
the surviving worker must fail it after twice the grace period, retry it and finish the
study instead of waiting for it forever. Real (tiny) training, real storages: SQLite
always, PostgreSQL from STACKSEARCH_TEST_DB_URL (skipped, saying why, where unset).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch.config import StudyConfig
from stacksearch.search import prepare_study, run_study

pytestmark = pytest.mark.integration

KILLED_WORKER = """
import os, signal, sys, warnings
import optuna
from stacksearch.storage import open_storage
warnings.simplefilter("ignore")
storage = open_storage(sys.argv[1], heartbeat_interval=1, grace_period=2)
study = optuna.load_study(study_name=sys.argv[2], storage=storage)
study.ask()  # Optuna has created the RUNNING trial; the heartbeat thread has not started yet
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_worker_killed_before_its_first_heartbeat_does_not_hang_the_study(
    backend, workdir, tiny_regression, server_url
):
    url = f"sqlite:///{workdir / 'o.db'}" if backend == "sqlite" else server_url(backend)
    name = f"orphan-{uuid.uuid4().hex[:8]}"
    config = StudyConfig.model_validate(
        {
            "benchmark": {"name": "adding", "args": {"length": 8, "n_train": 128, "n_val": 64, "n_test": 64}},
            "study": {
                "name": name,
                "n_trials": 1,
                "seed": 1,
                "storage": url,
                "heartbeat_interval": 1,
                "grace_period": 2,
            },
            "space": {"depth": [1, 2], "units": [4, 12], "learning_rate": [0.001, 0.01]},
            "training": {"epochs": 2, "batch_size": 64},
            "tracking": False,
            "report": False,
        }
    )
    prepare_study(config, tiny_regression, config.space.to_space())
    try:
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_WORKER, url, name], capture_output=True, text=True, timeout=120
        )
        assert killed.returncode == -9, killed.stderr[-2000:]
        stop = threading.Event()
        worker = threading.Thread(target=run_study, args=(config,), kwargs={"data": tiny_regression, "stop": stop})
        worker.start()
        worker.join(60)
        hung = worker.is_alive()
        stop.set()  # the worker returns after its next look
        worker.join(30)
        assert not hung, "after 60 s the surviving worker still waited for the dead worker's trial"
        trials = optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
        assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE]
        assert trials[0].user_attrs["fail_reason"].startswith("worker lost: no heartbeat ever arrived in 4 s")
        assert trials[1].system_attrs["failed_trial"] == 0 and "fail_reason" not in trials[1].user_attrs
    finally:
        optuna.delete_study(study_name=name, storage=url)
