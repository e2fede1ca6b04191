"""Bidirectional and residual stacks, and the user's own model, trained for real (tiny), tracked and reported."""

from __future__ import annotations

import itertools

import optuna
import pytest
from optuna.trial import TrialState

import stacksearch as ss
from stacksearch import benchmarks
from stacksearch.cli import main
from stacksearch.exceptions import ConfigError
from tests.support.studies import write_study
from tests.support.user_models import conv_front_end, token_data, token_front_end

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def adding():
    return benchmarks.load("adding", length=6, n_train=64, n_val=32, n_test=32)


EVERY_COMBINATION = list(itertools.product(("lstm", "gru"), (False, True), (False, True)))
CASES = [(mode, EVERY_COMBINATION) for mode in ("shared", "per_layer", "iso_params")]  # 24 models, one epoch each


@pytest.mark.parametrize("width_mode, combos", CASES, ids=[mode for mode, _ in CASES])
def test_every_variant_trains_and_reports(width_mode, combos, adding, tmp_path):
    space = ss.SearchSpace(
        depth=(2, 2),
        units=(4, 8),
        width_mode=width_mode,
        target_params=(3_000, 10_000),
        cell=("lstm", "gru"),
        bidirectional=(False, True),
        residual=(False, True),
    )
    study = optuna.create_study(direction="minimize", storage=f"sqlite:///{tmp_path}/v.db", study_name=width_mode)
    widths = {"shared": {"units": 6}, "per_layer": {"units_0": 5, "units_1": 7}, "iso_params": {"target_params": 6_000}}
    for cell, bidirectional, residual in combos:
        study.enqueue_trial(
            {"depth": 2, "cell": cell, "bidirectional": bidirectional, "residual": residual, "learning_rate": 3e-3}
            | widths[width_mode]
        )
    objective = ss.StackedLSTMObjective(adding, space, epochs=1, batch_size=32, prune=False)
    study.optimize(objective, n_trials=len(combos))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * len(combos)
    for trial, (cell, bidirectional, residual) in zip(study.trials, combos):
        attrs = trial.user_attrs
        assert (trial.params["cell"], attrs["bidirectional"], attrs["residual"]) == (cell, bidirectional, residual)
        spec = ss.ArchSpec(tuple(attrs["widths"]), cell=cell, bidirectional=bidirectional, residual=residual)
        assert attrs["n_params"] == spec.n_params(adding.n_features, adding.n_outputs)  # == count_params, checked
        assert attrs["epochs_trained"] == 1 and "test_mse" in attrs
    files = ss.write_report(study, tmp_path / "report")
    assert files["html"].exists() and files["csv"].read_text().count("\n") >= 2


def test_study_file_searches_both_variants_and_tracks_them(workdir, sqlite_uri, capsys):
    study_file = write_study(
        workdir / "variants.yaml",
        "study: {name: variants, n_trials: 3, seed: 0, pruner: none}\n"
        "benchmark: {name: adding, args: {length: 6, n_train: 64, n_val: 32, n_test: 32}}\n"
        "space: {depth: [1, 3], units: [4, 8], bidirectional: [false, true], residual: [false, true]}\n"
        "training: {epochs: 1, batch_size: 32}\n"
        f"tracking: {{tracking_uri: '{sqlite_uri}'}}\n"
        "report: {out: out}\n"
        "confirm: false\n",
    )
    assert main(["run", str(study_file)]) == 0
    study = optuna.load_study(study_name="variants", storage="sqlite:///stacksearch.db")
    assert study.user_attrs["space"]["bidirectional"] == [False, True]
    client = ss.MLflowTracker(sqlite_uri).client
    for trial in study.trials:
        assert {"bidirectional", "residual"} <= set(trial.params) & set(trial.user_attrs)
        params = client.get_run(trial.user_attrs["mlflow_run_id"]).data.params
        assert params["bidirectional"] == str(trial.params["bidirectional"])
        assert params["residual"] == str(trial.params["residual"])
    assert (workdir / "out" / "report.html").exists()


@pytest.mark.parametrize("example", ["conv", "tokens"])
def test_user_model_under_optuna_with_tracking_and_report(example, workdir, sqlite_uri):
    space = ss.SearchSpace(depth=(1, 3), units=(4, 8), bidirectional=(False, True), residual=(False, True))
    if example == "conv":
        data = benchmarks.load("adding", length=6, n_train=64, n_val=32, n_test=32)
        build = conv_front_end(space, data.n_features, data.n_outputs)
    else:
        data = token_data(metric="cross_entropy")  # continuous scores: tiny trials rarely tie, as accuracy can
        build = token_front_end(space, data.n_classes)
    tracker = ss.MLflowTracker(sqlite_uri, log_models="none")
    objective = ss.ModelObjective(build, data, epochs=1, batch_size=16, listeners=[tracker])
    study = optuna.create_study(
        direction=data.direction,
        storage="sqlite:///mine.db",
        study_name=example,
        sampler=optuna.samplers.RandomSampler(0),
    )
    study.optimize(objective, n_trials=2, callbacks=[tracker])
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    front = {"conv": 3 * 2 * 8 + 8, "tokens": 40 * 6}[example]  # Conv1D(8, 3) on 2 features; Embedding(40, 6)
    for trial in study.trials:
        attrs = trial.user_attrs
        spec = ss.ArchSpec(tuple(attrs["widths"]), bidirectional=attrs["bidirectional"], residual=attrs["residual"])
        n_in = 8 if example == "conv" else 6
        assert attrs["stack_params"] == spec.stack_params(n_in)
        head = (spec.directions * spec.widths[-1] + 1) * data.n_outputs
        assert attrs["n_params"] == front + attrs["stack_params"] + head  # the whole model's count_params()
        assert {"best_epoch", "epochs_trained", "train_seconds", "history", f"test_{data.metric}"} <= set(attrs)
        run = tracker.client.get_run(attrs["mlflow_run_id"])
        assert run.info.status == "FINISHED" and run.data.params["depth"] == str(attrs["depth"])
        assert run.data.params["bidirectional"] == str(attrs["bidirectional"])
        assert run.data.metrics["n_params"] == attrs["n_params"]
    files = ss.write_report(study, workdir / "report")
    assert files["html"].exists() and "depth" in files["csv"].read_text().splitlines()[0]


def test_compiled_user_model_trains_as_compiled_and_must_log_the_metric(workdir):
    import keras

    data = token_data()
    space = ss.SearchSpace(depth=(1, 2), units=(4, 8))

    def compiled(metrics):
        def build(trial):
            model = token_front_end(space, 2)(trial)
            model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=metrics)
            return model

        return build

    study = optuna.create_study(direction="maximize")
    study.optimize(ss.ModelObjective(compiled(["accuracy"]), data, epochs=1, batch_size=16), n_trials=1)
    assert study.trials[0].state == TrialState.COMPLETE and 0 <= study.trials[0].value <= 1
    with pytest.raises(ConfigError, match="logs no 'val_accuracy'.*metrics=\\['accuracy'\\]"):
        study.optimize(ss.ModelObjective(compiled([]), data, epochs=1, batch_size=16), n_trials=1)


def test_sequence_labelling_with_tokens_per_step(workdir):
    data = token_data(per_step=True)
    space = ss.SearchSpace(depth=(2, 2), units=(4, 8), bidirectional=True, residual=True)
    study = optuna.create_study(direction=data.direction)
    study.optimize(
        ss.ModelObjective(token_front_end(space, 2, per_step=True), data, epochs=1, batch_size=16), n_trials=1
    )
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    spec = ss.ArchSpec(tuple(trial.user_attrs["widths"]), bidirectional=True, residual=True)
    assert trial.user_attrs["stack_params"] == spec.stack_params(6, sequence_output=True)
