"""Every real benchmark trains through the objective: a finite validation score and a test score."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import optuna
import pytest

from stacksearch import benchmarks
from stacksearch.data import load_csv
from stacksearch.objective import StackedLSTMObjective
from stacksearch.space import SearchSpace

pytestmark = pytest.mark.integration

REAL = ("mackey_glass", "sunspots", "gunpoint", "italy_power_demand", "arrow_head", "japanese_vowels", "basic_motions")


def shrink(data, n: int = 48):
    """The first ``n`` cases of each part (kept small: these tests share two CPU cores)."""
    parts = {f"{a}_{p}": getattr(data, f"{a}_{p}")[:n] for a in "xy" for p in ("train", "val", "test")}
    return dataclasses.replace(data, **parts, baseline=data.baseline)


@pytest.mark.parametrize("name", REAL)
def test_one_trial_on_each_real_benchmark(name: str) -> None:
    pytest.importorskip("aeon")
    pytest.importorskip("statsmodels")
    data = shrink(benchmarks.load(name))
    objective = StackedLSTMObjective(
        data, SearchSpace(depth=(2, 2), units=(4, 4)), epochs=2, batch_size=16, prune=False
    )
    trial = optuna.trial.FixedTrial({"depth": 2, "units": 4, "learning_rate": 1e-2})
    value = objective(trial)
    assert math.isfinite(value)
    assert math.isfinite(trial.user_attrs[f"test_{data.metric}"])
    if data.task == "classification":
        assert 0.0 <= value <= 1.0


def test_csv_series_trains(tmp_path: Path) -> None:
    n = 240
    t = np.arange(n)
    series = np.column_stack([np.sin(t / 5.0), np.cos(t / 9.0)])
    path = tmp_path / "s.csv"
    np.savetxt(path, series, delimiter=",", header="y,z", comments="")
    data = load_csv(path, target="y", features=["z"], window=10, horizon=2)
    objective = StackedLSTMObjective(
        data, SearchSpace(depth=(1, 1), units=(4, 4)), epochs=2, batch_size=32, prune=False
    )
    trial = optuna.trial.FixedTrial({"depth": 1, "units": 4, "learning_rate": 1e-2})
    assert math.isfinite(objective(trial))
