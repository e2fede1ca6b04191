"""The README's user-model examples (a Conv1D and an Embedding front end feeding a searched stack) and token data."""

from __future__ import annotations

import numpy as np
import optuna

import stacksearch as ss
from stacksearch.data import SequenceData

VOCAB, EMBED = 40, 6


def conv_front_end(space: ss.SearchSpace, n_features: int, n_outputs: int):
    """The README's first example: Conv1D features feeding a searched stack, one regression output."""

    def build(trial: optuna.Trial):
        import keras

        inputs = keras.Input((None, n_features))
        x = keras.layers.Conv1D(8, 3, padding="causal", activation="relu", name="conv")(inputs)
        x = ss.stack_layers(trial, x, space)
        return keras.Model(inputs, keras.layers.Dense(n_outputs, name="out")(x))

    return build


def token_front_end(space: ss.SearchSpace, n_classes: int, *, per_step: bool = False):
    """The README's second example: token ids (right-padded with 0) through an Embedding, then the stack."""

    def build(trial: optuna.Trial):
        import keras

        tokens = keras.Input((None, 1))  # SequenceData is (cases, steps, features): one id per step
        ids = keras.layers.Reshape((-1,))(tokens)
        x = keras.layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embed")(ids)
        x = ss.stack_layers(trial, x, space, return_sequences=per_step)
        return keras.Model(tokens, keras.layers.Dense(n_classes, activation="softmax", name="out")(x))

    return build


def token_data(
    n: int = 48, length: int = 9, seed: int = 0, per_step: bool = False, metric: str | None = None
) -> SequenceData:
    """Right-padded token sequences; label: is token 1 among the sequence's ids (or, per step, the id's parity)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, length + 1, size=n)
    x = np.zeros((n, length, 1), dtype="float32")
    for i, size in enumerate(lengths):
        x[i, :size, 0] = rng.integers(1, VOCAB, size=size)
    y = (x[..., 0] % 2).astype(int) if per_step else np.any(x[..., 0] == 1, axis=1).astype(int)
    task = "sequence_labelling" if per_step else "classification"
    cut, end = n // 2, 3 * n // 4
    return SequenceData(
        x[:cut], y[:cut], x[cut:end], y[cut:end], x[end:], y[end:], task=task, n_classes=2, metric=metric
    )
