"""A scripted stand-in for a compiled Keras model, in the spirit of keras-tuner's ``MockModel``.

``fit`` replays a scripted curve of validation losses through the real Keras callback
machinery (``keras.callbacks.CallbackList``), so :func:`stacksearch.train.fit_model` and
:class:`stacksearch.StackedLSTMObjective` run their own early-stopping, divergence, pruning
and best-epoch-restore code without training anything. The model's "weights" are the
number of the epoch that produced them, so a test sees which epoch's weights were restored,
and ``evaluate`` scores whatever weights are loaded.

Example:
    >>> model = ScriptedModel([0.5, 0.3, 0.4])
    >>> result = fit_model(model, data, epochs=3, batch_size=8, patience=None)  # doctest: +SKIP
    >>> result.best_epoch, model.weights_epoch, model.epochs_run  # doctest: +SKIP
    (1, 1, [0, 1, 2])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ResourceExhaustedError", "ScriptedModel", "tiny_data"]


class ResourceExhaustedError(RuntimeError):
    """Named like TensorFlow's out-of-memory error, which the objective recognises by its name."""


@dataclass
class ScriptedModel:
    """A model whose ``fit`` replays ``val_losses`` (one per epoch) through the given callbacks.

    Each epoch logs ``loss`` (``losses`` or the validation value plus 0.1), ``val_loss`` and
    ``val_<metric>`` (both the scripted value). ``raises`` maps an epoch to the exception that
    epoch raises before its logs (say, :class:`ResourceExhaustedError`). ``n_params`` is what
    ``count_params`` answers.
    """

    val_losses: Sequence[float]
    metric: str = "mse"
    losses: Sequence[float] | None = None
    raises: Mapping[int, BaseException] = field(default_factory=dict)
    n_params: int = 0
    weights_epoch: int = -1
    epochs_run: list[int] = field(default_factory=list)
    stop_training: bool = False
    history: Any = None

    def logs(self, epoch: int) -> dict[str, float]:
        value = float(self.val_losses[epoch])
        loss = float(self.losses[epoch]) if self.losses is not None else value + 0.1
        return {"loss": loss, "val_loss": value, f"val_{self.metric}": value}

    def fit(self, x: Any, y: Any, *, epochs: int, callbacks: Sequence[Any] = (), initial_epoch: int = 0, **_: Any):
        import keras

        if epochs > len(self.val_losses):
            raise ValueError(f"the script has {len(self.val_losses)} epochs; fit asked for {epochs}")
        hooks = keras.callbacks.CallbackList(list(callbacks), add_history=True, model=self, epochs=epochs, steps=1)
        self.stop_training = False
        hooks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            hooks.on_epoch_begin(epoch)
            if epoch in self.raises:
                raise self.raises[epoch]
            self.weights_epoch = epoch
            self.epochs_run.append(epoch)
            hooks.on_epoch_end(epoch, self.logs(epoch))
            if self.stop_training:
                break
        hooks.on_train_end()
        return self.history

    def evaluate(self, x: Any, y: Any, **_: Any) -> dict[str, float]:
        """The scripted validation value of the loaded weights' epoch, as the test score."""
        value = float(self.val_losses[self.weights_epoch]) if self.weights_epoch >= 0 else math.nan
        return {"loss": value, self.metric: value}

    def get_weights(self) -> list[np.ndarray]:
        return [np.array([self.weights_epoch], dtype=float)]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self.weights_epoch = int(weights[0][0])

    def count_params(self) -> int:
        return self.n_params


def tiny_data(task: str = "regression", test: bool = True):
    """A SequenceData of a few zero-filled cases (the scripted model never looks at them)."""
    from stacksearch.data import SequenceData

    x = np.zeros((6, 3, 2), dtype="float32")
    y = np.arange(6) % 2 if task == "classification" else np.linspace(0.0, 1.0, 6)
    extra = {"x_test": x, "y_test": y} if test else {}
    return SequenceData(x, y, x, y, task=task, **extra)
