"""Shared fixtures: a clean working folder and environment, and tiny data sets."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

_OVERRIDES = ("STACKSEARCH_STORAGE", "MLFLOW_TRACKING_URI")


@contextlib.contextmanager
def time_zone(name: str) -> Iterator[None]:
    """Run the block with the process's local time zone set to ``name`` (``TZ``), then restore it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in an empty folder with no storage/tracking overrides in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in _OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def tiny_regression():
    """A SequenceData small enough to train in about a second."""
    from stacksearch import benchmarks

    return benchmarks.load("adding", length=8, n_train=128, n_val=64, n_test=64)


def write_study(path: Path, text: str) -> Path:
    """Write a study YAML file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


TINY_STUDY = """
study: {{name: {name}, n_trials: {n_trials}, seed: 1}}
benchmark: {{name: adding, args: {{length: 8, n_train: 128, n_val: 64, n_test: 64}}}}
space: {{depth: [1, 2], units: [4, 12], learning_rate: [0.001, 0.01]}}
training: {{epochs: 2, batch_size: 64}}
tracking: false
report: false
confirm: false
"""


def tiny_study(folder: Path, name: str = "tiny", n_trials: int = 2) -> Path:
    """A study file that runs ``n_trials`` trials of tiny models without tracking."""
    return write_study(folder / f"{name}.yaml", TINY_STUDY.format(name=name, n_trials=n_trials))


def random_arrays(n: int = 32, length: int = 6, features: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, length, features)).astype("float32")
    return x, x[:, :, 0].sum(axis=1)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """In CI (STACKSEARCH_REQUIRE_SERVICES=1) a skipped test is a failure: CI must run them all."""
    if os.environ.get("STACKSEARCH_REQUIRE_SERVICES") != "1" or call.excinfo is None:
        return None
    if call.excinfo.errisinstance(pytest.skip.Exception) and "optional:" not in str(call.excinfo.value):
        from _pytest.reports import TestReport

        report = TestReport.from_item_and_call(item, call)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must be reachable: {call.excinfo.value}"
        return report
    return None
