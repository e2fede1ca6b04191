"""stack_layers and ModelObjective: a searched stack inside the user's own Keras model (no training)."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

import stacksearch as ss
from stacksearch.exceptions import ConfigError
from tests.support.user_models import EMBED, VOCAB, conv_front_end, token_data, token_front_end

PARAMS = {"depth": 3, "units_0": 5, "units_1": 5, "units_2": 7, "units": 6, "learning_rate": 2e-3}


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_conv_front_end_block_is_counted_exactly(bidirectional, residual):
    space = ss.SearchSpace(
        depth=(1, 3), units=(4, 8), width_mode="per_layer", bidirectional=bidirectional, residual=residual
    )
    trial = optuna.trial.FixedTrial(PARAMS)
    model = conv_front_end(space, 2, 1)(trial)
    attrs = trial.user_attrs
    block = sum(layer.count_params() for layer in model.layers if layer.name.startswith("stack_"))
    assert attrs["n_params"] == attrs["stack_params"] == block
    assert (
        block == model.count_params() - model.get_layer("conv").count_params() - model.get_layer("out").count_params()
    )
    spec = ss.ArchSpec((5, 5, 7), bidirectional=bidirectional, residual=residual)
    assert block == spec.stack_params(8)
    assert (attrs["depth"], attrs["widths"], attrs["bidirectional"], attrs["residual"]) == (
        3,
        [5, 5, 7],
        bidirectional,
        residual,
    )
    assert attrs["width_mode"] == "per_layer"
    recurrent = [layer for layer in model.layers if layer.name.startswith(("stack_lstm_", "stack_bidirectional_"))]
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]


@pytest.mark.parametrize("per_step", [False, True])
def test_token_front_end_keeps_the_mask_through_a_bidirectional_residual_stack(per_step):
    space = ss.SearchSpace(depth=(1, 3), units=(4, 8), bidirectional=True, residual=True, cell="gru")
    trial = optuna.trial.FixedTrial({"depth": 2, "units": 6, "learning_rate": 1e-3})
    model = token_front_end(space, 2, per_step=per_step)(trial)
    assert model.output_shape == ((None, None, 2) if per_step else (None, 2))
    spec = ss.ArchSpec((6, 6), cell="gru", bidirectional=True, residual=True)
    assert trial.user_attrs["n_params"] == spec.stack_params(EMBED, sequence_output=per_step)
    assert model.count_params() == VOCAB * EMBED + spec.stack_params(EMBED, sequence_output=per_step) + (12 + 1) * 2
    padded = np.array([[[3], [4], [5], [0], [0]]], dtype="float32")
    full, cut = model.predict(padded, verbose=0), model.predict(padded[:, :3], verbose=0)
    np.testing.assert_allclose(full[:, :3] if per_step else full, cut, rtol=1e-5, atol=1e-6)


def test_iso_params_and_max_params_budget_the_block_alone():
    space = ss.SearchSpace(depth=(1, 3), width_mode="iso_params", target_params=(1000, 50_000), bidirectional=True)
    trial = optuna.trial.FixedTrial({"depth": 2, "target_params": 20_000, "learning_rate": 1e-3})
    conv_front_end(space, 2, 1)(trial)
    assert abs(trial.user_attrs["n_params"] - 20_000) / 20_000 <= 0.05
    small = ss.SearchSpace(depth=(1, 3), units=(4, 64), max_params=1000)
    over = optuna.trial.FixedTrial({"depth": 3, "units": 64, "learning_rate": 1e-3})
    with pytest.raises(optuna.TrialPruned, match="exceed max_params=1000"):
        conv_front_end(small, 2, 1)(over)
    assert "exceed max_params" in over.user_attrs["reject_reason"]
    assert over.user_attrs["residual"] is False and over.user_attrs["bidirectional"] is False


def test_misuse_is_a_clear_error():
    import keras

    from stacksearch.model import collected_stacks

    trial = optuna.trial.FixedTrial({"depth": 1, "units": 8, "learning_rate": 1e-3})
    with pytest.raises(ConfigError, match="stack_layers: inputs of shape"):
        ss.stack_layers(trial, keras.Input((5,)), ss.SearchSpace())
    with collected_stacks() as stacks, pytest.raises(ConfigError, match="called twice"):
        x = ss.stack_layers(trial, keras.Input((None, 2)), ss.SearchSpace(), return_sequences=True)
        ss.stack_layers(trial, x, ss.SearchSpace())
    assert len(stacks) == 1
    with pytest.raises(ConfigError, match="build must be a function"):
        ss.ModelObjective("not a function", token_data())
    objective = ss.ModelObjective(lambda trial: "not a model", token_data(), epochs=1)
    with pytest.raises(ConfigError, match="returned str, not a keras.Model"):
        objective(optuna.trial.FixedTrial({}))
