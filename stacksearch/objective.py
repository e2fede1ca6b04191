"""The Optuna objective: sample an architecture, build it, train it, score it.

Example:
    >>> import optuna, stacksearch as ss
    >>> data = ss.benchmarks.load("adding", length=10, n_train=256, n_val=64, n_test=64)
    >>> objective = ss.StackedLSTMObjective(data, ss.SearchSpace(depth=(1, 2), units=(4, 16)), epochs=2)
    >>> study = optuna.create_study(direction=data.direction)  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=2)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import optuna

from stacksearch.data import SequenceData
from stacksearch.exceptions import TrialRejected
from stacksearch.settings import BATCH_SIZE, EPOCHS, PATIENCE, SEED
from stacksearch.space import ArchSpec, SearchSpace

if TYPE_CHECKING:
    import keras

__all__ = ["StackedLSTMObjective", "TrialListener"]

_log = logging.getLogger(__name__)
_OOM_NAMES = ("ResourceExhaustedError", "OutOfMemoryError", "XlaRuntimeError")


class TrialListener(Protocol):
    """Hooks called during a trial (the MLflow tracker implements them)."""

    def on_trial_start(self, trial: optuna.Trial, spec: ArchSpec) -> None: ...

    def on_epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None: ...

    def on_trial_end(self, trial: optuna.Trial, model: keras.Model | None, value: float | None) -> None: ...


class StackedLSTMObjective:
    """Optuna objective over stacked-LSTM depth and width; usable in any Optuna study.

    Returns the best validation metric (restoring that epoch's weights), or
    ``(metric, n_params)`` when ``multi_objective`` (pruning is then off: Optuna cannot
    prune multi-objective studies). Over-budget specs end PRUNED with ``reject_reason``;
    a non-finite loss or out-of-memory ends FAIL with ``fail_reason``; the study goes on.
    With ``checkpoints`` (a :class:`stacksearch.checkpoint.CheckpointStore`) every epoch is
    saved, and a trial retried after its worker died resumes from its last epoch
    (user attribute ``resumed_from_epoch``).
    """

    def __init__(
        self,
        data: SequenceData,
        space: SearchSpace | None = None,
        *,
        epochs: int = EPOCHS,
        batch_size: int = BATCH_SIZE,
        patience: int | None = PATIENCE,
        seed: int | None = SEED,
        prune: bool = True,
        multi_objective: bool = False,
        listeners: Sequence[TrialListener] = (),
        verbose: int = 0,
        checkpoints: Any = None,
    ) -> None:
        self.data = data
        self.space = space or SearchSpace()
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.seed = seed
        self.multi_objective = multi_objective
        self.prune = prune and not multi_objective
        self.listeners = list(listeners)
        self.verbose = verbose
        self.checkpoints = checkpoints

    def _failed(self, trial: optuna.Trial, reason: str) -> float | tuple[float, float]:
        trial.set_user_attr("fail_reason", reason)
        _log.warning("trial %d failed: %s", trial.number, reason)
        for listener in self.listeners:
            listener.on_trial_end(trial, None, None)
        return (math.nan, math.nan) if self.multi_objective else math.nan

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        from stacksearch.model import active_backend, released_traces

        data = self.data
        trial.set_user_attr("width_mode", self.space.width_mode)
        trial.set_user_attr("backend", active_backend())
        try:
            spec = self.space.sample(trial, data.n_features, data.n_outputs)
        except TrialRejected as rejected:
            trial.set_user_attr("reject_reason", str(rejected))
            raise optuna.TrialPruned(f"rejected: {rejected}") from None
        n_params = spec.n_params(data.n_features, data.n_outputs)
        seed = None if self.seed is None else self.seed + trial.number
        seed = trial.user_attrs.get("confirm_seed", seed)  # a confirmation retraining brings its own seed
        trial.set_user_attr("depth", spec.depth)
        trial.set_user_attr("widths", list(spec.widths))
        trial.set_user_attr("n_params", n_params)
        trial.set_user_attr("seed", seed)
        for listener in self.listeners:
            listener.on_trial_start(trial, spec)
        with released_traces():
            return self._train(trial, spec, n_params, seed)

    def _train(
        self, trial: optuna.Trial, spec: ArchSpec, n_params: int, seed: int | None
    ) -> float | tuple[float, float]:
        from stacksearch.model import build_stacked_lstm, fresh_session
        from stacksearch.train import fit_model, score_test

        data = self.data
        fresh_session(seed)
        model = None
        checkpoint = self.checkpoints.for_trial(trial) if self.checkpoints is not None else None
        try:
            model = build_stacked_lstm(spec, data)
            if model.count_params() != n_params:
                raise RuntimeError(f"parameter count mismatch: {model.count_params()} != {n_params} for {spec}")

            def epoch_end(epoch: int, logs: dict[str, float]) -> None:
                for listener in self.listeners:
                    listener.on_epoch_end(trial, epoch, logs)

            result = fit_model(
                model,
                data,
                epochs=self.epochs,
                batch_size=spec.batch_size or self.batch_size,
                patience=self.patience,
                trial=trial,
                prune=self.prune,
                on_epoch_end=epoch_end,
                verbose=self.verbose,
                checkpoint=checkpoint,
            )
        except Exception as err:  # noqa: BLE001 - only resource exhaustion fails one trial
            if type(err).__name__ in _OOM_NAMES or isinstance(err, MemoryError):
                if checkpoint is not None:
                    checkpoint.discard()
                del model
                fresh_session()
                return self._failed(trial, f"out of memory: {str(err).splitlines()[0][:200]}")
            raise
        if checkpoint is not None:
            checkpoint.discard()
            if checkpoint.resumed_from is not None:
                trial.set_user_attr("resumed_from_epoch", checkpoint.resumed_from)
        trial.set_user_attr("epochs_trained", result.epochs_trained)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.train_seconds, 4))
        trial.set_user_attr("history", result.history)
        if result.diverged:
            return self._failed(trial, result.diverged)
        if result.pruned:
            trial.set_user_attr("prune_reason", result.pruned)
            for listener in self.listeners:
                listener.on_trial_end(trial, None, None)
            raise optuna.TrialPruned(result.pruned)
        test_score = score_test(model, data, spec.batch_size or self.batch_size)
        if test_score is not None:
            trial.set_user_attr(f"test_{data.metric}", test_score)
        value = result.best_value
        for listener in self.listeners:
            listener.on_trial_end(trial, model, value)
        return (value, float(n_params)) if self.multi_objective else value

    def best_model_spec(self, params: dict[str, Any]) -> ArchSpec:
        """Rebuild the :class:`ArchSpec` of a finished trial from its parameters."""
        return self.space.sample(optuna.trial.FixedTrial(params), self.data.n_features, self.data.n_outputs)
