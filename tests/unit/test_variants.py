"""Bidirectional and residual stacks: sampling, exact parameter counts, structure, study files (no training)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import optuna
import pytest

from stacksearch import benchmarks
from stacksearch.config import StudyConfig
from stacksearch.exceptions import ConfigError, TrialRejected
from stacksearch.space import ArchSpec, SearchSpace, solve_iso_widths

CELLS = ("lstm", "gru")
MODES = ("shared", "per_layer", "iso_params")
# per_layer widths 5, 5, 7: an identity connection (5 -> 5) and a projection (5 -> 7) in one stack
PARAMS = {
    "depth": 3,
    "units": 6,
    "units_0": 5,
    "units_1": 5,
    "units_2": 7,
    "target_params": 8000,
    "learning_rate": 1e-3,
}


def _space(cell: str, bidirectional: bool, residual: bool, mode: str) -> SearchSpace:
    return SearchSpace(
        depth=(1, 3),
        units=(4, 16),
        width_mode=mode,
        target_params=(500, 50_000),
        cell=cell,
        bidirectional=bidirectional,
        residual=residual,
    )


@pytest.fixture(scope="module")
def datasets():
    regression = benchmarks.load("adding", length=5, n_train=4, n_val=2, n_test=2)
    return {
        "vector, masked": dataclasses.replace(regression, mask_value=0.0),
        "sequence": benchmarks.load("copy_memory", delay=2, n_train=4, n_val=2, n_test=2),
    }


@pytest.mark.parametrize("output", ["vector, masked", "sequence"])
def test_every_variant_counts_its_parameters_exactly(output, datasets):
    from stacksearch.model import build_stacked_lstm

    data = datasets[output]
    sequence = data.task == "sequence_labelling"
    for cell, bidirectional, residual, mode in itertools.product(CELLS, (False, True), (False, True), MODES):
        space = _space(cell, bidirectional, residual, mode)
        spec = space.sample(optuna.trial.FixedTrial(PARAMS), data.n_features, data.n_outputs, sequence_output=sequence)
        assert (spec.cell, spec.bidirectional, spec.residual) == (cell, bidirectional, residual)
        model = build_stacked_lstm(spec, data, compile=False)
        counted = spec.n_params(data.n_features, data.n_outputs, sequence_output=sequence)
        assert model.count_params() == counted, (cell, bidirectional, residual, mode, spec.widths)
        assert model.output_shape == ((None, None, data.n_outputs) if sequence else (None, data.n_outputs))
        links = spec.connections(data.n_features, sequence_output=sequence)
        adds = [layer for layer in model.layers if layer.name.startswith("residual_")]
        projections = [layer for layer in model.layers if layer.name.startswith("projection_")]
        assert len(adds) == sum(link is not None for link in links)
        assert len(projections) == links.count("projection")


def test_bidirectional_layers_keep_the_cudnn_path_and_chain_sequences(datasets):
    from stacksearch.model import build_stacked_lstm

    model = build_stacked_lstm(ArchSpec((6, 5, 4), bidirectional=True), datasets["vector, masked"])
    wrappers = [layer for layer in model.layers if layer.name.startswith("bidirectional_lstm_")]
    assert [w.return_sequences for w in wrappers] == [True, True, False]
    inner = [layer for w in wrappers for layer in (w.forward_layer, w.backward_layer)]
    assert all(layer.use_cudnn == "auto" and layer.recurrent_dropout == 0 and not layer.unroll for layer in inner)
    assert all(layer.activation.__name__ == "tanh" for layer in inner)
    assert model.get_layer("head").input.shape[-1] == 2 * 4  # widths are units per direction


def test_residual_connections_identity_where_sizes_match_projection_where_not():
    spec = ArchSpec((8, 8, 12, 12), residual=True)
    assert spec.connections(2) == ("projection", "identity", "projection", None)
    assert spec.connections(8, sequence_output=True) == ("identity", "identity", "projection", "identity")
    plain = ArchSpec((8, 8, 12, 12))
    assert spec.n_params(2, 1) - plain.n_params(2, 1) == 2 * 8 + 8 * 12
    bi = ArchSpec((8, 8), bidirectional=True, residual=True)
    assert bi.connections(16, sequence_output=True) == ("identity", "identity")
    assert bi.n_params(3, 1) == 2 * (4 * (8 * (3 + 8) + 8) + 4 * (8 * (16 + 8) + 8)) + 3 * 16 + 17
    assert ArchSpec((8,), residual=True).connections(2) == (None,)  # one vector out: no connection


def test_residual_output_is_input_plus_layer_output():
    from stacksearch.model import build_stacked_lstm

    data = benchmarks.load("copy_memory", delay=2, n_train=4, n_val=2, n_test=2)
    model = build_stacked_lstm(ArchSpec((10, 10), residual=True), data, compile=False)
    import keras

    x = data.x_val[:2]
    probe = keras.Model(model.input, [model.get_layer(n).output for n in ("residual_0", "lstm_1", "residual_1")])
    first, second_rnn, second = (np.asarray(a) for a in probe(x))
    np.testing.assert_allclose(second, first + second_rnn, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional, residual", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("depth", [1, 2, 4, 6])
@pytest.mark.parametrize("target", [8_000, 60_000, 400_000])
def test_iso_params_solves_the_variant_count(cell, bidirectional, residual, depth, target):
    widths = solve_iso_widths(cell, depth, target, 3, 2, bidirectional=bidirectional, residual=residual)
    spec = ArchSpec(widths, cell=cell, bidirectional=bidirectional, residual=residual)
    assert abs(spec.n_params(3, 2) - target) / target <= 0.05
    plain = solve_iso_widths(cell, depth, target, 3, 2)
    if bidirectional:
        assert sum(widths) < sum(plain)  # the bidirectional count, not the plain one, was solved


def test_defaults_sample_exactly_the_old_parameters_in_the_old_order():
    space = SearchSpace(depth=(1, 4), units=(8, 64), cell=("lstm", "gru"), dropout=(0.0, 0.3), batch_size=(32, 64))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()
    spec = space.sample(trial, 2, 1)
    assert list(trial.params) == ["depth", "cell", "units", "learning_rate", "dropout", "batch_size"]
    assert not spec.bidirectional and not spec.residual
    assert space.variant_attrs(trial.params) == {"bidirectional": False, "residual": False}


def test_searched_variants_are_trial_parameters():
    space = SearchSpace(bidirectional=(False, True), residual=(False, True))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        spec = space.sample(trial, 2, 1)
        assert {"bidirectional", "residual"} <= set(trial.params)
        assert (spec.bidirectional, spec.residual) == (trial.params["bidirectional"], trial.params["residual"])
        seen.add((spec.bidirectional, spec.residual))
        study.tell(trial, 0.0)
    assert len(seen) == 4
    fixed = SearchSpace(bidirectional=True).sample(
        optuna.trial.FixedTrial({"depth": 1, "units": 8, "learning_rate": 1e-3}), 2, 1
    )
    assert fixed.bidirectional and not fixed.residual


def test_max_params_counts_the_bidirectional_model():
    space = SearchSpace(units=(8, 64), max_params=10_000, bidirectional=True)
    trial = optuna.trial.FixedTrial({"depth": 2, "units": 20, "learning_rate": 1e-3})
    with pytest.raises(TrialRejected, match="exceed max_params"):
        space.sample(trial, 2, 1)
    SearchSpace(units=(8, 64), max_params=10_000).sample(trial, 2, 1)  # the plain one fits


@pytest.mark.parametrize("value", ["yes", 1, [], [True, True], [False, "true"]])
@pytest.mark.parametrize("key", ["bidirectional", "residual"])
def test_bad_variant_values(key, value):
    with pytest.raises(ConfigError, match=f"space.{key}"):
        SearchSpace(**{key: value})
    with pytest.raises(ConfigError, match=f"s.yaml: space.{key}: give true, false, or \\[false, true\\]"):
        from stacksearch.config import validate_config

        validate_config({"benchmark": {"name": "adding"}, "space": {key: value}}, "s.yaml")


def test_study_file_keys_and_an_unchanged_stored_space():
    default = StudyConfig.model_validate({"benchmark": {"name": "adding"}})
    assert "bidirectional" not in default.space.model_dump() and "residual" not in default.space.model_dump()
    config = StudyConfig.model_validate(
        {"benchmark": {"name": "adding"}, "space": {"bidirectional": [False, True], "residual": True}}
    )
    space = config.space.to_space()
    assert space.bidirectional == (False, True) and space.residual == (True,)
    assert config.space.model_dump(mode="json")["bidirectional"] == [False, True]
    with pytest.raises(ValueError, match="grid search does not cover space.bidirectional"):
        StudyConfig.model_validate(
            {"benchmark": {"name": "adding"}, "study": {"sampler": "grid"}, "space": {"bidirectional": [False, True]}}
        )


def test_shipped_studies_use_the_variants():
    from stacksearch.config import load_config

    studies = Path(__file__).resolve().parents[2] / "studies"
    searched = {
        name: load_config(studies / f"{name}.yaml", env={}).space.to_space()
        for name in ("japanese_vowels_bidirectional", "adding-residual")
    }
    assert searched["japanese_vowels_bidirectional"].bidirectional == (False, True)
    assert searched["adding-residual"].residual == (False, True)


@pytest.mark.parametrize("cell", CELLS)
def test_masked_padding_changes_nothing_in_a_bidirectional_residual_stack(cell):
    from stacksearch.model import build_stacked_lstm

    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 7, 3)).astype("float32")
    x[:, 4:] = 0.0  # right-padded: 4 real steps
    data = dataclasses.replace(benchmarks.load("adding", length=7, n_train=4, n_val=2, n_test=2), mask_value=0.0)
    data = dataclasses.replace(
        data, x_train=x, y_train=x[:, 0, 0], x_val=x[:4], y_val=x[:4, 0, 0], x_test=None, y_test=None
    )
    model = build_stacked_lstm(ArchSpec((6, 6, 5), cell=cell, bidirectional=True, residual=True), data)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[:, :4], verbose=0), rtol=1e-5, atol=1e-6)
    plain = dataclasses.replace(data, mask_value=None)
    unmasked = build_stacked_lstm(ArchSpec((6, 6, 5), cell=cell, bidirectional=True, residual=True), plain)
    unmasked.set_weights(model.get_weights())
    assert not np.allclose(unmasked.predict(x, verbose=0), unmasked.predict(x[:, :4], verbose=0), atol=1e-6)
