"""A trial on a kept compiled model trains exactly as on a new one with the same seed (TensorFlow, CPU)."""

from __future__ import annotations

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


def test_a_repeated_architecture_reuses_its_model_and_trains_bit_identically(tiny_regression):
    if active_backend() not in REUSE_BACKENDS:
        pytest.skip(f"models are reused on {REUSE_BACKENDS} only; this process runs {active_backend()}")
    same_program = {**REPEATED, "learning_rate": 0.005, "dropout": 0.2}  # only the learning rate differs
    kw = {"epochs": 3, "batch_size": 32, "seed": 5, "prune": False, "patience": None}
    reused = _trials(StackedLSTMObjective(tiny_regression, SPACE, **kw), same_program)
    other = {"depth": 1, "units": 6, "learning_rate": 0.01, "dropout": 0.0}
    fresh = _trials(StackedLSTMObjective(tiny_regression, SPACE, reuse_models=False, **kw), other)
    assert [t.user_attrs.get("reused_model") for t in reused] == [False, True]
    assert "reused_model" not in fresh[1].user_attrs
    assert reused[1].user_attrs["seed"] == fresh[1].user_attrs["seed"] == 6
    assert reused[1].user_attrs["history"] == fresh[1].user_attrs["history"]  # every epoch, every metric, exactly
    assert reused[1].value == fresh[1].value
    assert reused[1].user_attrs["test_mse"] == fresh[1].user_attrs["test_mse"]
    assert reused[0].user_attrs["history"] != reused[1].user_attrs["history"]  # a restart, not a continuation


def test_a_different_program_is_not_reused(tiny_regression):
    if active_backend() not in REUSE_BACKENDS:
        pytest.skip(f"models are reused on {REUSE_BACKENDS} only")
    objective = StackedLSTMObjective(tiny_regression, SPACE, epochs=1, batch_size=32, seed=1, prune=False)
    trials = _trials(objective, {**REPEATED, "dropout": 0.1})  # dropout changes the traced program
    assert [t.user_attrs["reused_model"] for t in trials] == [False, False]
    assert objective.models is not None and len(objective.models) == 1  # the last trial's only
