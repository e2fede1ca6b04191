"""A trial on a kept compiled model trains exactly as on a new one with the same seed (CPU).

The test process runs TensorFlow; the JAX test runs the same comparison in a JAX process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest

from stacksearch import SearchSpace, StackedLSTMObjective
from stacksearch.model import active_backend
from stacksearch.reuse import REUSE_BACKENDS

pytestmark = pytest.mark.integration

SPACE = SearchSpace(depth=(1, 2), units=(4, 12), learning_rate=(0.001, 0.03), dropout=(0.0, 0.3))
REPEATED = {"depth": 2, "units": 8, "learning_rate": 0.02, "dropout": 0.2}


def _trials(objective: StackedLSTMObjective, first: dict) -> list[optuna.trial.FrozenTrial]:
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial(first)
    study.enqueue_trial(REPEATED)
    study.optimize(objective, n_trials=2)
    return study.trials


def reused_and_fresh() -> dict[str, Any]:
    """The repeated trial after the same program (reused) and after another one with reuse off (fresh)."""
    from stacksearch import benchmarks

    data = benchmarks.load("adding", length=8, n_train=128, n_val=64, n_test=64)
    same_program = {**REPEATED, "learning_rate": 0.005, "dropout": 0.2}  # only the learning rate differs
    kw = {"epochs": 3, "batch_size": 32, "seed": 5, "prune": False, "patience": None}
    reused = _trials(StackedLSTMObjective(data, SPACE, **kw), same_program)
    other = {"depth": 1, "units": 6, "learning_rate": 0.01, "dropout": 0.0}
    fresh = _trials(StackedLSTMObjective(data, SPACE, reuse_models=False, **kw), other)
    return {
        "backend": active_backend(),
        "reused_model": [t.user_attrs.get("reused_model") for t in reused],
        "fresh_reused_model": fresh[1].user_attrs.get("reused_model"),
        "seeds": [reused[1].user_attrs["seed"], fresh[1].user_attrs["seed"]],
        "histories": [reused[1].user_attrs["history"], fresh[1].user_attrs["history"]],
        "first_history": reused[0].user_attrs["history"],
        "values": [reused[1].value, fresh[1].value],
        "test_mse": [reused[1].user_attrs["test_mse"], fresh[1].user_attrs["test_mse"]],
    }


def _assert_bit_identical(result: dict[str, Any]) -> None:
    assert result["reused_model"] == [False, True]
    assert result["fresh_reused_model"] is None
    assert result["seeds"] == [6, 6]
    reused, fresh = result["histories"]
    assert reused == fresh  # every epoch, every metric, exactly
    assert result["values"][0] == result["values"][1]
    assert result["test_mse"][0] == result["test_mse"][1]
    assert result["first_history"] != reused  # a restart, not a continuation


def test_a_repeated_architecture_reuses_its_model_and_trains_bit_identically():
    if active_backend() not in REUSE_BACKENDS:
        pytest.skip(f"models are reused on {REUSE_BACKENDS} only; this process runs {active_backend()}")
    _assert_bit_identical(reused_and_fresh())


def test_on_jax_too_a_reused_model_trains_bit_identically():
    pytest.importorskip("jax", reason='JAX is not installed (pip install "stacksearch[jax]")')
    code = "import json; from tests.integration.test_reuse import reused_and_fresh as r; print(json.dumps(r()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "KERAS_BACKEND": "jax"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    _assert_bit_identical(result)


def test_a_different_program_is_not_reused(tiny_regression):
    if active_backend() not in REUSE_BACKENDS:
        pytest.skip(f"models are reused on {REUSE_BACKENDS} only")
    objective = StackedLSTMObjective(tiny_regression, SPACE, epochs=1, batch_size=32, seed=1, prune=False)
    trials = _trials(objective, {**REPEATED, "dropout": 0.1})  # dropout changes the traced program
    assert [t.user_attrs["reused_model"] for t in trials] == [False, False]
    assert objective.models is not None and len(objective.models) == 1  # the last trial's only
