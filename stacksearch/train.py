"""Fit one model: per-epoch reporting and pruning, early stopping, best-epoch restore.

Example:
    >>> result = fit_model(model, data, epochs=5, batch_size=64, patience=2)  # doctest: +SKIP
    >>> result.best_epoch, result.epochs_trained  # doctest: +SKIP
    (3, 5)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from stacksearch.data import SequenceData
from stacksearch.metrics import better
from stacksearch.metrics import metric as get_metric
from stacksearch.settings import PATIENCE

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
    epoch_seconds: list[float] = field(default_factory=list)
    diverged: str | None = None
    pruned: str | None = None


def monitor_key(metric: str) -> str:
    """The Keras log key holding the validation metric (:attr:`stacksearch.metrics.Metric.monitor`).

    Example:
        >>> monitor_key("mse"), monitor_key("cross_entropy")
        ('val_mse', 'val_loss')
    """
    return get_metric(metric).monitor


def _targets(data: SequenceData, split: str) -> np.ndarray:
    y = getattr(data, f"y_{split}")
    return y[:, None] if data.task == "regression" and y.ndim == 1 else y


def _make_callback(
    keras_module: Any,
    state: FitResult,
    *,
    monitor: str,
    direction: str,
    patience: int | None,
    trial: optuna.Trial | None,
    prune: bool,
    on_epoch_end: EpochHook | None,
    checkpoint: Any = None,
) -> Any:
    shuffle_state = np.random.get_state()

    class _TrialCallback(keras_module.callbacks.Callback):
        best_weights: list | None = None
        waited = 0
        started = 0.0
        epoch_started = 0.0

        def on_train_begin(self, logs: dict | None = None) -> None:
            # JAX and torch shuffle each epoch with NumPy's global generator, and Keras draws from it
            # once more before training when it builds a new model's metrics from a batch (a kept
            # model skips that): so training starts from the state fit_model was called with
            np.random.set_state(shuffle_state)
            self.started = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch_started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            state.epoch_seconds.append(time.perf_counter() - self.epoch_started)
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
            if state.best_epoch < 0 or better(value, state.best_value, direction):
                state.best_epoch, state.best_value = epoch, value
                self.best_weights = self.model.get_weights()
                self.waited = 0
            else:
                self.waited += 1
                if patience is not None and self.waited >= patience:
                    self.model.stop_training = True
            if checkpoint is not None:
                seconds = state.train_seconds + time.perf_counter() - self.started
                checkpoint.save(
                    self.model,
                    epoch,
                    _fit_state(state, self.waited, self.model.stop_training, seconds),
                    self.best_weights,
                )
            if trial is not None and prune:
                trial.report(value, epoch)
                if trial.should_prune():
                    state.pruned = f"pruned at epoch {epoch} ({monitor}={value:.6g})"
                    self.model.stop_training = True

    return _TrialCallback()


def _fit_state(state: FitResult, waited: int, stopped: bool, seconds: float) -> dict[str, Any]:
    """The JSON part of a checkpoint: what a resumed fit needs besides the weights."""
    return {
        "history": state.history,
        "best_epoch": state.best_epoch,
        "best_value": state.best_value,
        "epochs_trained": state.epochs_trained,
        "waited": waited,
        "stopped": bool(stopped),
        "train_seconds": seconds,
        "epoch_seconds": state.epoch_seconds,
    }


def _resume(
    checkpoint: Any,
    model: Any,
    state: FitResult,
    callback: Any,
    *,
    monitor: str,
    trial: optuna.Trial | None,
    prune: bool,
    on_epoch_end: EpochHook | None,
) -> tuple[int, bool]:
    """Restore a retried trial from its newest checkpoint: (first epoch to run, training done)."""
    resume = checkpoint.load()
    if resume is None:
        return 0, False
    resume.restore_model(model)
    saved = resume.state
    state.history = {k: list(v) for k, v in saved["history"].items()}
    state.best_epoch, state.best_value = saved["best_epoch"], saved["best_value"]
    state.epochs_trained, state.train_seconds = saved["epochs_trained"], saved.get("train_seconds", 0.0)
    state.epoch_seconds = list(saved.get("epoch_seconds", []))
    callback.best_weights, callback.waited = resume.best_weights, saved["waited"]
    for epoch in range(state.epochs_trained):  # replay so pruners and listeners see every epoch
        logs = {k: v[epoch] for k, v in state.history.items() if epoch < len(v)}
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
        if trial is not None and prune and monitor in logs:
            trial.report(logs[monitor], epoch)
    return state.epochs_trained, bool(saved.get("stopped"))


def fit_model(
    model: keras.Model,
    data: SequenceData,
    *,
    epochs: int,
    batch_size: int,
    patience: int | None = PATIENCE,
    trial: optuna.Trial | None = None,
    prune: bool = True,
    on_epoch_end: EpochHook | None = None,
    verbose: int = 0,
    checkpoint: Any = None,
) -> FitResult:
    """Train ``model`` on ``data`` and restore the weights of its best validation epoch.

    Each epoch the validation metric is reported to ``trial`` (when given) and pruning is
    asked; a non-finite loss stops training and sets ``diverged``; ``patience`` epochs
    without improvement stop early. With a ``checkpoint``
    (:class:`stacksearch.checkpoint.TrialCheckpoint`) the state is saved after every epoch,
    and a retried trial continues after the last saved epoch.
    """
    import keras

    state = FitResult()
    callback = _make_callback(
        keras,
        state,
        monitor=monitor_key(data.metric),
        direction=get_metric(data.metric).direction,
        patience=patience,
        trial=trial,
        prune=prune,
        on_epoch_end=on_epoch_end,
        checkpoint=checkpoint,
    )
    initial_epoch, done = 0, False
    if checkpoint is not None:
        initial_epoch, done = _resume(
            checkpoint,
            model,
            state,
            callback,
            monitor=monitor_key(data.metric),
            trial=trial,
            prune=prune,
            on_epoch_end=on_epoch_end,
        )
    earlier_seconds = state.train_seconds
    start = time.perf_counter()
    if not done and initial_epoch < epochs:
        model.fit(
            data.x_train,
            _targets(data, "train"),
            validation_data=(data.x_val, _targets(data, "val")),
            epochs=epochs,
            batch_size=batch_size,
            callbacks=[callback],
            verbose=verbose,
            shuffle=True,
            initial_epoch=initial_epoch,
        )
    state.train_seconds = earlier_seconds + time.perf_counter() - start
    if callback.best_weights is not None:
        model.set_weights(callback.best_weights)
    return state


def score_test(model: keras.Model, data: SequenceData, batch_size: int) -> float | None:
    """The metric on the test split with the model's current weights (None without test data).

    Uses ``model.evaluate``, which reuses the validation step Keras already traced.
    """
    if data.x_test is None:
        return None
    scores = model.evaluate(data.x_test, _targets(data, "test"), batch_size=batch_size, verbose=0, return_dict=True)
    return float(scores[get_metric(data.metric).keras_name])
