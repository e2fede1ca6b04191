"""Ctrl-C: the first stops after the running trial, a second stops now; storage stays consistent."""

import os
import signal
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState

from tests.support.studies import write_study

STUDY = """
study: {name: ctrlc, n_trials: 50, seed: 0, pruner: none}
benchmark: {name: adding, args: {length: 10, n_train: 2000, n_val: 64, n_test: 64}}
space: {depth: [1, 1], units: [4, 8], learning_rate: [0.001, 0.01]}
training: {epochs: 50, batch_size: 16, patience: null}
tracking: false
report: false
confirm: false
"""


def _wait_for_running(storage: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name="ctrlc", storage=storage)
            if any(t.state == TrialState.RUNNING and t.intermediate_values for t in study.trials):
                return
        except KeyError:
            pass
        time.sleep(0.5)
    raise AssertionError("no trial started in time")


def test_two_ctrl_c_leave_no_running_trial_and_the_study_resumes(workdir):
    study_file = write_study(workdir / "ctrlc.yaml", STUDY)
    storage = "sqlite:///stacksearch.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "stacksearch.cli", "run", str(study_file)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_running(storage, time.monotonic() + 120)
        process.send_signal(signal.SIGINT)
        time.sleep(1)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    assert "interrupted" in out and "Traceback" not in out
    study = optuna.load_study(study_name="ctrlc", storage=storage)
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states and states[-1] == TrialState.FAIL
    study_file.write_text(STUDY.replace("epochs: 50", "epochs: 1"))
    done = subprocess.run(
        [sys.executable, "-m", "stacksearch.cli", "run", str(study_file), "--n-trials", str(len(states))],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    finished = [
        t
        for t in optuna.load_study(study_name="ctrlc", storage=storage).trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    assert len(finished) == len(states)
