"""Real (tiny) training through the objective, the runner and the CLI."""

import gc
import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

import stacksearch as ss
from stacksearch.cli import main
from tests.support.studies import tiny_study

ATTRS = {"depth", "widths", "n_params", "epochs_trained", "best_epoch", "train_seconds", "history", "test_mse"}


def test_cli_run_creates_study_with_contract_attributes(workdir, capsys):
    assert main(["run", str(tiny_study(workdir, n_trials=2))]) == 0
    out = capsys.readouterr().out
    assert "best" in out and "parameters" in out and "trials: 2/2 finished" in out
    study = optuna.load_study(study_name="tiny", storage="sqlite:///stacksearch.db")
    assert study.user_attrs["metric"] == "mse" and study.user_attrs["baseline"] == pytest.approx(1 / 6)
    assert study.user_attrs["benchmark"]["args"]["length"] == 8
    for trial in study.trials:
        assert trial.state in (TrialState.COMPLETE, TrialState.PRUNED)
        assert ATTRS - {"test_mse"} <= set(trial.user_attrs)
        assert len(trial.user_attrs["widths"]) == trial.params["depth"] == trial.user_attrs["depth"]
        assert trial.user_attrs["epochs_trained"] == len(trial.user_attrs["history"]["val_mse"])
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete and all(ATTRS <= set(t.user_attrs) for t in complete)
    best = complete[0]
    history = best.user_attrs["history"]["val_mse"]
    assert best.value == pytest.approx(min(history))
    assert best.user_attrs["best_epoch"] == int(np.argmin(history))


def test_n_trials_is_a_target_not_an_increment(workdir):
    study_file = tiny_study(workdir, name="topup", n_trials=2)
    assert main(["run", str(study_file)]) == 0
    assert main(["run", str(study_file)]) == 0
    study = optuna.load_study(study_name="topup", storage="sqlite:///stacksearch.db")
    assert len(study.trials) == 2
    assert main(["run", str(study_file), "--n-trials", "3"]) == 0
    assert len(optuna.load_study(study_name="topup", storage="sqlite:///stacksearch.db").trials) == 3


def test_resuming_with_a_different_space_is_refused(workdir, capsys):
    study_file = tiny_study(workdir, name="changed", n_trials=1)
    assert main(["run", str(study_file)]) == 0
    study_file.write_text(study_file.read_text().replace("units: [4, 12]", "units: [4, 16]"))
    assert main(["run", str(study_file)]) == 2
    assert "already exists with a different space" in capsys.readouterr().err


def test_design_example_with_own_arrays(workdir, tiny_regression):
    d = tiny_regression
    data = ss.SequenceData(d.x_train, d.y_train, d.x_val, d.y_val, task="regression")
    objective = ss.StackedLSTMObjective(data, ss.SearchSpace(depth=(1, 2), units=(4, 8)), epochs=2)
    study = optuna.create_study(storage="sqlite:///mine.db", study_name="mine", direction="minimize")
    study.optimize(objective, n_trials=2)
    assert len(study.trials) == 2 and all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all("test_mse" not in t.user_attrs for t in study.trials)


def test_diverging_trial_fails_with_reason_and_the_study_goes_on(workdir, tiny_regression):
    d = tiny_regression
    huge = ss.SequenceData(d.x_train, d.y_train * 1e30, d.x_val, d.y_val * 1e30, task="regression")
    objective = ss.StackedLSTMObjective(huge, ss.SearchSpace(depth=(1, 1), units=(4, 4)), epochs=2)
    study = optuna.create_study(direction="minimize")
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert all("non-finite loss" in t.user_attrs["fail_reason"] for t in study.trials)


def test_rejected_trial_is_pruned_before_building(workdir, tiny_regression):
    space = ss.SearchSpace(depth=(1, 2), units=(4, 64), max_params=200)  # 1 x 4 fits: a space nothing fits is refused
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"depth": 2, "units": 64, "learning_rate": 1e-3})
    study.optimize(ss.StackedLSTMObjective(tiny_regression, space, epochs=1), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert "exceed max_params=200" in trial.user_attrs["reject_reason"]
    assert "epochs_trained" not in trial.user_attrs


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_pruned_trial_records_its_epoch(workdir, tiny_regression):
    study = optuna.create_study(direction="minimize", pruner=_AlwaysPrune())
    study.optimize(
        ss.StackedLSTMObjective(tiny_regression, ss.SearchSpace(units=(4, 4), depth=(1, 1)), epochs=3), n_trials=1
    )
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED and trial.user_attrs["epochs_trained"] == 1
    assert trial.user_attrs["prune_reason"].startswith("pruned at epoch 0")
    assert list(trial.intermediate_values) == [0]


def test_finished_trials_leave_no_traced_graphs_behind(workdir, tiny_regression):
    """TensorFlow's gradient registry kept every trained model's train step alive (15 MB each)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the registry that kept graphs alive is TensorFlow's")
    from tensorflow.python.framework.func_graph import FuncGraph

    def live_graphs() -> int:
        keras.backend.clear_session()
        gc.collect()
        return sum(isinstance(obj, FuncGraph) for obj in gc.get_objects())

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    objective = ss.StackedLSTMObjective(tiny_regression, ss.SearchSpace(depth=(1, 2), units=(4, 8)), epochs=1)
    study.optimize(objective, n_trials=1)
    after_one = live_graphs()
    study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    assert live_graphs() <= after_one


def test_multi_objective_returns_metric_and_parameters_without_pruning(workdir, tiny_regression):
    objective = ss.StackedLSTMObjective(
        tiny_regression, ss.SearchSpace(depth=(1, 2), units=(4, 8)), epochs=2, multi_objective=True
    )
    study = optuna.create_study(directions=["minimize", "minimize"])
    study.optimize(objective, n_trials=2)
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        assert trial.values[1] == trial.user_attrs["n_params"]
        assert trial.intermediate_values == {}
        assert math.isfinite(trial.values[0])


def test_classification_reports_accuracy(workdir):
    from stacksearch.data import SequenceData

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6, 1)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype(int)
    data = SequenceData(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:], task="classification")
    study = optuna.create_study(direction=data.direction)
    study.optimize(ss.StackedLSTMObjective(data, ss.SearchSpace(depth=(1, 1), units=(4, 4)), epochs=2), n_trials=1)
    trial = study.trials[0]
    assert data.direction == "maximize" and 0.0 <= trial.value <= 1.0
    assert 0.0 <= trial.user_attrs["test_accuracy"] <= 1.0
