"""Fit one model: per-epoch reporting and pruning, early stopping, best-epoch restore.

Example:
    >>> result = fit_model(model, data, epochs=5, batch_size=64, patience=2)  # doctest: +SKIP
    >>> result.best_epoch, result.epochs_trained  # doctest: +SKIP
    (3, 5)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import optuna

from stacksearch.data import SequenceData

if TYPE_CHECKING:
    import keras

__all__ = ["FitResult", "fit_model", "monitor_key"]

EpochHook = Callable[[int, dict[str, float]], None]


@dataclass
class FitResult:
    """What one fit produced. ``best_epoch`` is 0-based; ``history`` holds every epoch."""

    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = -1
    best_value: float = math.nan
    epochs_trained: int = 0
    train_seconds: float = 0.0
    diverged: str | None = None
    pruned: str | None = None


def monitor_key(metric: str) -> str:
    """The Keras log key holding the validation metric (``val_loss`` for cross-entropy)."""
    return "val_loss" if metric == "cross_entropy" else f"val_{metric}"


def _targets(data: SequenceData, split: str) -> np.ndarray:
    y = getattr(data, f"y_{split}")
    return y[:, None] if data.task == "regression" and y.ndim == 1 else y


def _make_callback(keras_module: Any, state: FitResult, *, monitor: str, maximize: bool,
                   patience: int | None, trial: optuna.Trial | None, prune: bool,
                   on_epoch_end: EpochHook | None) -> Any:
    class _TrialCallback(keras_module.callbacks.Callback):
        best_weights: list | None = None
        waited = 0

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for key, value in logs.items():
                state.history.setdefault(key, []).append(value)
            state.epochs_trained = epoch + 1
            value = logs.get(monitor, math.nan)
            if on_epoch_end is not None:
                on_epoch_end(epoch, logs)
            if not (math.isfinite(value) and math.isfinite(logs.get("loss", 0.0))):
                state.diverged = f"non-finite loss at epoch {epoch} (loss={logs.get('loss')}, {monitor}={value})"
                self.model.stop_training = True
                return
            better = state.best_epoch < 0 or (value > state.best_value if maximize else value < state.best_value)
            if better:
                state.best_epoch, state.best_value = epoch, value
                self.best_weights = self.model.get_weights()
                self.waited = 0
            else:
                self.waited += 1
                if patience is not None and self.waited >= patience:
                    self.model.stop_training = True
            if trial is not None and prune:
                trial.report(value, epoch)
                if trial.should_prune():
                    state.pruned = f"pruned at epoch {epoch} ({monitor}={value:.6g})"
                    self.model.stop_training = True

    return _TrialCallback()


def fit_model(
    model: "keras.Model",
    data: SequenceData,
    *,
    epochs: int,
    batch_size: int,
    patience: int | None = 3,
    trial: optuna.Trial | None = None,
    prune: bool = True,
    on_epoch_end: EpochHook | None = None,
    verbose: int = 0,
) -> FitResult:
    """Train ``model`` on ``data`` and restore the weights of its best validation epoch.

    Each epoch the validation metric is reported to ``trial`` (when given) and pruning is
    asked; a non-finite loss stops training and sets ``diverged``; ``patience`` epochs
    without improvement stop early.
    """
    import keras

    from stacksearch.metrics import metric as get_metric

    state = FitResult()
    callback = _make_callback(
        keras, state, monitor=monitor_key(data.metric),
        maximize=get_metric(data.metric).direction == "maximize",
        patience=patience, trial=trial, prune=prune, on_epoch_end=on_epoch_end,
    )
    start = time.perf_counter()
    model.fit(
        data.x_train, _targets(data, "train"),
        validation_data=(data.x_val, _targets(data, "val")),
        epochs=epochs, batch_size=batch_size, callbacks=[callback], verbose=verbose, shuffle=True,
    )
    state.train_seconds = time.perf_counter() - start
    if callback.best_weights is not None:
        model.set_weights(callback.best_weights)
    return state


def score_test(model: "keras.Model", data: SequenceData, batch_size: int) -> float | None:
    """The metric on the test split with the model's current weights (None without test data)."""
    from stacksearch.metrics import metric as get_metric

    if data.x_test is None:
        return None
    predictions = model.predict(data.x_test, batch_size=batch_size, verbose=0)
    return get_metric(data.metric).score(_targets(data, "test"), predictions)
