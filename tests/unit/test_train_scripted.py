"""fit_model and StackedLSTMObjective on scripted loss curves: early stopping, divergence,
out-of-memory and pruning, through the real Keras callbacks and real Optuna studies, no training."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch import SearchSpace, StackedLSTMObjective
from stacksearch.train import fit_model
from tests.support.fake_model import ResourceExhaustedError, ScriptedModel, tiny_data

optuna.logging.set_verbosity(optuna.logging.ERROR)
NAN, INF = math.nan, math.inf


def fit(model: ScriptedModel, *, epochs: int | None = None, data: Any = None, **kwargs: Any):
    epochs = len(model.val_losses) if epochs is None else epochs
    return fit_model(model, data or tiny_data(), epochs=epochs, batch_size=8, **kwargs)


def pruning_study(upper: float) -> optuna.Study:
    """An in-memory study whose pruner prunes any epoch scoring above ``upper``."""
    return optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=upper))


# ---------------------------------------------------------------- fit_model


def test_the_best_epochs_weights_are_restored_and_every_epoch_is_in_the_history() -> None:
    model = ScriptedModel([0.5, 0.3, 0.4])
    result = fit(model, patience=None)
    assert (result.best_epoch, result.best_value, result.epochs_trained) == (1, 0.3, 3)
    assert model.epochs_run == [0, 1, 2] and model.weights_epoch == 1
    assert result.history["val_mse"] == [0.5, 0.3, 0.4] and result.history["loss"] == pytest.approx([0.6, 0.4, 0.5])
    assert result.diverged is None and result.pruned is None


def test_patience_stops_after_that_many_epochs_without_improvement() -> None:
    model = ScriptedModel([0.5, 0.3, 0.4, 0.35, 0.31, 0.1])
    result = fit(model, patience=3)
    assert model.epochs_run == [0, 1, 2, 3, 4]  # the 0.1 of epoch 5 is never reached
    assert (result.best_epoch, result.best_value, result.epochs_trained, model.weights_epoch) == (1, 0.3, 5, 1)
    assert fit(ScriptedModel([0.5, 0.3, 0.4, 0.35, 0.31, 0.1]), patience=None).best_epoch == 5


def test_a_maximised_metric_keeps_its_highest_epoch() -> None:
    model = ScriptedModel([0.6, 0.8, 0.7], metric="accuracy")
    result = fit(model, data=tiny_data("classification"), patience=None)
    assert (result.best_epoch, result.best_value, model.weights_epoch) == (1, 0.8, 1)


@pytest.mark.parametrize(
    "val, train, shown",
    [([0.5, NAN, 0.2], None, "val_mse=nan"), ([0.5, 0.4, 0.2], [0.6, INF, 0.3], "loss=inf")],
    ids=["nan_validation", "inf_training"],
)
def test_a_non_finite_loss_stops_training_and_says_where(
    val: Sequence[float], train: Sequence[float] | None, shown: str
) -> None:
    model = ScriptedModel(val, losses=train)
    result = fit(model, patience=None)
    assert result.diverged.startswith("non-finite loss at epoch 1 ") and shown in result.diverged
    assert model.epochs_run == [0, 1] and result.epochs_trained == 2
    assert (result.best_epoch, model.weights_epoch) == (0, 0)  # the weights before the blow-up


def test_each_epoch_is_reported_and_a_pruned_trial_stops_at_once() -> None:
    study = pruning_study(upper=0.45)
    trial = study.ask()
    model = ScriptedModel([0.4, 0.5, 0.3])
    result = fit(model, trial=trial, patience=None)
    assert result.pruned == "pruned at epoch 1 (val_mse=0.5)" and model.epochs_run == [0, 1]
    assert study.trials[0].intermediate_values == {0: 0.4, 1: 0.5}


def test_without_pruning_nothing_is_reported_and_every_epoch_runs() -> None:
    study = pruning_study(upper=0.45)
    trial = study.ask()
    result = fit(ScriptedModel([0.4, 0.5, 0.3]), trial=trial, prune=False, patience=None)
    assert result.pruned is None and result.epochs_trained == 3 and study.trials[0].intermediate_values == {}


def test_an_out_of_memory_error_leaves_fit_model_unchanged() -> None:
    error = ResourceExhaustedError("OOM when allocating tensor")
    with pytest.raises(ResourceExhaustedError) as raised:
        fit(ScriptedModel([0.5, 0.4], raises={1: error}))
    assert raised.value is error


# ---------------------------------------------------------------- StackedLSTMObjective


class Recorder:
    """A trial listener that writes down every hook call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_trial_start(self, trial: optuna.Trial, spec: Any) -> None:
        self.calls.append(("start", trial.number, spec.depth))

    def on_epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
        self.calls.append(("epoch", trial.number, epoch, logs["val_mse"]))

    def on_trial_end(self, trial: optuna.Trial, model: Any, value: float | None) -> None:
        self.calls.append(("end", trial.number, model is not None, value))


def objective(scripts: dict[int, ScriptedModel], *listeners: Recorder, **kwargs: Any) -> StackedLSTMObjective:
    """The real objective with ``scripts[trial.number]`` as each trial's model (its exact parameter count)."""
    data = tiny_data()

    def build(spec: Any, data: Any) -> ScriptedModel:
        model = scripts[len(built)]
        model.n_params = spec.n_params(data.n_features, data.n_outputs)
        built.append(model)
        return model

    built: list[ScriptedModel] = []
    kwargs.setdefault("epochs", 3)
    kwargs.setdefault("patience", None)
    space = SearchSpace(depth=(1, 2), units=(4, 8))
    return StackedLSTMObjective(data, space, listeners=listeners, build=build, **kwargs)


def test_a_completed_trial_scores_the_best_epoch_and_tests_its_weights() -> None:
    recorder = Recorder()
    study = optuna.create_study()
    study.optimize(objective({0: ScriptedModel([0.5, 0.3, 0.4])}, recorder), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE and trial.value == 0.3
    attrs = trial.user_attrs
    assert (attrs["best_epoch"], attrs["epochs_trained"], attrs["test_mse"]) == (1, 3, 0.3)
    assert attrs["history"]["val_mse"] == [0.5, 0.3, 0.4] and attrs["n_params"] > 0
    epochs = [("epoch", 0, epoch, value) for epoch, value in enumerate([0.5, 0.3, 0.4])]
    assert recorder.calls[1:] == [*epochs, ("end", 0, True, 0.3)]


def test_a_non_finite_loss_fails_the_trial_saying_why_and_the_study_goes_on() -> None:
    recorder = Recorder()
    scripts = {0: ScriptedModel([0.5, NAN, 0.2]), 1: ScriptedModel([0.4, 0.3, 0.2])}
    study = optuna.create_study()
    study.optimize(objective(scripts, recorder), n_trials=2)
    failed, done = study.trials
    assert failed.state == TrialState.FAIL and failed.user_attrs["fail_reason"].startswith("non-finite loss at epoch 1")
    assert failed.user_attrs["epochs_trained"] == 2 and "test_mse" not in failed.user_attrs
    assert ("end", 0, False, None) in recorder.calls
    assert done.state == TrialState.COMPLETE and done.value == 0.2


@pytest.mark.parametrize(
    "error, reason",
    [
        (ResourceExhaustedError("OOM when allocating tensor\nmore detail"), "out of memory: OOM when allocating"),
        (MemoryError("cannot allocate"), "out of memory: cannot allocate"),
    ],
    ids=["tensorflow", "host"],
)
def test_out_of_memory_fails_the_trial_saying_why_and_the_study_goes_on(error: BaseException, reason: str) -> None:
    recorder = Recorder()
    scripts = {0: ScriptedModel([0.5, 0.4, 0.3], raises={1: error}), 1: ScriptedModel([0.4, 0.3, 0.2])}
    study = optuna.create_study()
    study.optimize(objective(scripts, recorder), n_trials=2)
    failed, done = study.trials
    assert failed.state == TrialState.FAIL and failed.user_attrs["fail_reason"].startswith(reason)
    assert "more detail" not in failed.user_attrs["fail_reason"]
    assert ("end", 0, False, None) in recorder.calls and done.state == TrialState.COMPLETE


def test_any_other_error_stops_the_study() -> None:
    study = optuna.create_study()
    with pytest.raises(ValueError, match="a bug"):
        study.optimize(objective({0: ScriptedModel([0.5, 0.4, 0.3], raises={0: ValueError("a bug")})}), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_a_pruned_trial_ends_pruned_with_its_reason_after_that_epoch() -> None:
    recorder = Recorder()
    study = pruning_study(upper=0.45)
    study.optimize(objective({0: ScriptedModel([0.4, 0.5, 0.3])}, recorder), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED and trial.user_attrs["prune_reason"] == "pruned at epoch 1 (val_mse=0.5)"
    assert trial.user_attrs["epochs_trained"] == 2 and trial.intermediate_values == {0: 0.4, 1: 0.5}
    assert recorder.calls[-1] == ("end", 0, False, None)


def test_patience_ends_the_trial_early_with_the_best_value() -> None:
    study = optuna.create_study()
    study.optimize(objective({0: ScriptedModel([0.5, 0.3, 0.4, 0.35, 0.1])}, epochs=5, patience=2), n_trials=1)
    trial = study.trials[0]
    assert trial.value == 0.3 and trial.user_attrs["epochs_trained"] == 4 and trial.user_attrs["best_epoch"] == 1
