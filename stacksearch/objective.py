"""The Optuna objectives: sample an architecture (or call your build function), train it, score it.

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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import optuna

from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError, TrialRejected
from stacksearch.feasible import check_feasible
from stacksearch.reuse import REUSE_BACKENDS, ModelCache
from stacksearch.settings import BATCH_SIZE, EPOCHS, PATIENCE, SEED
from stacksearch.space import ArchSpec, SearchSpace

if TYPE_CHECKING:
    import keras

__all__ = ["StackedLSTMObjective", "ModelObjective", "TrialListener"]

_log = logging.getLogger(__name__)
_OOM_NAMES = ("ResourceExhaustedError", "OutOfMemoryError", "XlaRuntimeError")


class TrialListener(Protocol):
    """Hooks called during a trial (the MLflow tracker implements them)."""

    def on_trial_start(self, trial: optuna.Trial, spec: ArchSpec) -> None: ...

    def on_epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None: ...

    def on_trial_end(self, trial: optuna.Trial, model: keras.Model | None, value: float | None) -> None: ...


class _FitObjective:
    """What both objectives share: seeding, the fit loop, out-of-memory handling, test scoring, listeners."""

    def __init__(
        self,
        data: SequenceData,
        *,
        epochs: int,
        batch_size: int,
        patience: int | None,
        seed: int | None,
        prune: bool,
        multi_objective: bool,
        listeners: Sequence[TrialListener],
        verbose: int,
        checkpoints: Any,
    ) -> None:
        self.data = data
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

    def _trial_seed(self, trial: optuna.Trial) -> int | None:
        seed = None if self.seed is None else self.seed + trial.number
        seed = trial.user_attrs.get("confirm_seed", seed)  # a confirmation retraining brings its own seed
        trial.set_user_attr("seed", seed)
        return seed

    def _epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
        for listener in self.listeners:
            listener.on_epoch_end(trial, epoch, logs)

    def _train(
        self,
        trial: optuna.Trial,
        make_model: Callable[[], tuple[keras.Model, int]],
        seed: int | None,
        batch_size: Callable[[], int],
    ) -> float | tuple[float, float]:
        from stacksearch.model import fresh_session
        from stacksearch.train import fit_model, score_test

        data = self.data
        fresh_session(seed)
        model = None
        checkpoint = self.checkpoints.for_trial(trial) if self.checkpoints is not None else None
        try:
            model, n_params = make_model()
            result = fit_model(
                model,
                data,
                epochs=self.epochs,
                batch_size=batch_size(),
                patience=self.patience,
                trial=trial,
                prune=self.prune,
                on_epoch_end=lambda epoch, logs: self._epoch_end(trial, epoch, logs),
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
        trial.set_user_attr("epoch_seconds", [round(x, 4) for x in result.epoch_seconds])
        trial.set_user_attr("history", result.history)
        if result.diverged:
            return self._failed(trial, result.diverged)
        if result.pruned:
            trial.set_user_attr("prune_reason", result.pruned)
            for listener in self.listeners:
                listener.on_trial_end(trial, None, None)
            raise optuna.TrialPruned(result.pruned)
        test_score = score_test(model, data, batch_size())
        if test_score is not None:
            trial.set_user_attr(f"test_{data.metric}", test_score)
        value = result.best_value
        for listener in self.listeners:
            listener.on_trial_end(trial, model, value)
        return (value, float(n_params)) if self.multi_objective else value


class StackedLSTMObjective(_FitObjective):
    """Optuna objective over stacked-LSTM depth and width; usable in any Optuna study.

    Returns the best validation metric (restoring that epoch's weights), or
    ``(metric, n_params)`` when ``multi_objective`` (pruning is then off: Optuna cannot
    prune multi-objective studies). Over-budget specs end PRUNED with ``reject_reason``;
    a non-finite loss or out-of-memory ends FAIL with ``fail_reason``; the study goes on.
    With ``checkpoints`` (a :class:`stacksearch.checkpoint.CheckpointStore`) every epoch is
    saved, and a trial retried after its worker died resumes from its last epoch
    (user attribute ``resumed_from_epoch``). Every trial records ``bidirectional`` and
    ``residual`` (parameters too, where the space searches them). ``build(spec, data)`` makes
    each trial's compiled model (default :func:`stacksearch.build_stacked_lstm`). On TensorFlow and JAX,
    ``reuse_models`` (default on, without ``build``) trains a repeated architecture on its kept
    compiled model, restarted from a new model's initial weights: the same history, no tracing
    (:mod:`stacksearch.reuse`; the trial's user attribute ``reused_model`` says which).
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
        build: Callable[[ArchSpec, SequenceData], keras.Model] | None = None,
        reuse_models: bool = True,
    ) -> None:
        super().__init__(
            data,
            epochs=epochs,
            batch_size=batch_size,
            patience=patience,
            seed=seed,
            prune=prune,
            multi_objective=multi_objective,
            listeners=listeners,
            verbose=verbose,
            checkpoints=checkpoints,
        )
        self.space = space or SearchSpace()
        self.build = build
        self.models = ModelCache() if reuse_models and build is None else None
        check_feasible(self.space, data.n_features, data.n_outputs, sequence_output=self._sequence_output)

    @property
    def _sequence_output(self) -> bool:
        return self.data.task == "sequence_labelling"

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        from stacksearch.model import active_backend, released_traces

        data = self.data
        trial.set_user_attr("width_mode", self.space.width_mode)
        trial.set_user_attr("backend", active_backend())
        try:
            spec = self.space.sample(trial, data.n_features, data.n_outputs, sequence_output=self._sequence_output)
        except TrialRejected as rejected:
            for key, value in self.space.variant_attrs(trial.params).items():
                trial.set_user_attr(key, value)
            trial.set_user_attr("reject_reason", str(rejected))
            raise optuna.TrialPruned(f"rejected: {rejected}") from None
        n_params = spec.n_params(data.n_features, data.n_outputs, sequence_output=self._sequence_output)
        seed = self._trial_seed(trial)
        trial.set_user_attr("depth", spec.depth)
        trial.set_user_attr("widths", list(spec.widths))
        trial.set_user_attr("n_params", n_params)
        trial.set_user_attr("bidirectional", spec.bidirectional)
        trial.set_user_attr("residual", spec.residual)
        for listener in self.listeners:
            listener.on_trial_start(trial, spec)
        batch_size = spec.batch_size or self.batch_size
        models = self.models if self.models is not None and active_backend() in REUSE_BACKENDS else None
        taken: list[keras.Model] = []

        def make_model() -> tuple[keras.Model, int]:
            if models is None:
                return self._build(spec, n_params)
            model, reused = models.take(spec, data, batch_size)
            trial.set_user_attr("reused_model", reused)
            taken.append(model)
            return self._checked(model, spec, n_params), n_params

        ended = False  # completed, pruned or failed as a trial: the model may serve the next one
        with released_traces():
            try:
                score = self._train(trial, make_model, seed, lambda: batch_size)
                ended = True
                return score
            except optuna.TrialPruned:
                ended = True
                raise
            finally:
                if models is not None and taken and ended:
                    models.give_back(taken[0], spec, data, batch_size)

    def _build(self, spec: ArchSpec, n_params: int) -> tuple[keras.Model, int]:
        from stacksearch.model import build_stacked_lstm

        return self._checked((self.build or build_stacked_lstm)(spec, self.data), spec, n_params), n_params

    @staticmethod
    def _checked(model: keras.Model, spec: ArchSpec, n_params: int) -> keras.Model:
        if model.count_params() != n_params:
            raise RuntimeError(f"parameter count mismatch: {model.count_params()} != {n_params} for {spec}")
        return model

    def best_model_spec(self, params: dict[str, Any]) -> ArchSpec:
        """Rebuild the :class:`ArchSpec` of a finished trial from its parameters."""
        trial = optuna.trial.FixedTrial(params)
        return self.space.sample(
            trial, self.data.n_features, self.data.n_outputs, sequence_output=self._sequence_output
        )


class ModelObjective(_FitObjective):
    """Optuna objective that trains your own Keras model with stacksearch's fit loop.

    ``build(trial)`` returns a ``keras.Model`` that reads ``data.x_*`` and predicts the
    task's targets (regression values; softmax class probabilities for classification,
    per step for sequence labelling); usually it calls :func:`stacksearch.stack_layers`
    once for a searched recurrent block. The model may come **uncompiled** (then it is
    compiled as stacksearch's own: Adam at the trial's ``learning_rate`` parameter, which
    ``stack_layers`` samples, else 1e-3; MSE or sparse categorical cross-entropy;
    ``data.metric`` logged) or **compiled** (trained as compiled; it must log
    ``data.metric``, e.g. ``metrics=["accuracy"]``, unless the metric is
    ``cross_entropy``, the loss). The batch size is the trial's ``batch_size`` parameter
    if the space searches one, else ``batch_size``.

    Everything else is :class:`StackedLSTMObjective`'s: pruning, early stopping,
    best-epoch restore, test scoring, ``checkpoints``, ``listeners`` (an
    :class:`stacksearch.MLflowTracker` tracks the trials), ``multi_objective``, and the
    user attributes the report reads. ``n_params`` is the whole model's
    ``count_params()``; ``stack_params`` the searched block's. A ``TrialRejected`` or
    ``optuna.TrialPruned`` raised by ``build`` (``stack_layers`` over budget) ends the
    trial PRUNED.

    Example:
        >>> import keras, optuna, stacksearch as ss  # doctest: +SKIP
        >>> space = ss.SearchSpace(depth=(1, 4), units=(16, 128), residual=(False, True))  # doctest: +SKIP
        >>> def build(trial):  # doctest: +SKIP
        ...     inputs = keras.Input((None, data.n_features))
        ...     x = keras.layers.Conv1D(32, 5, padding="causal", activation="relu")(inputs)
        ...     x = ss.stack_layers(trial, x, space)
        ...     return keras.Model(inputs, keras.layers.Dense(data.n_outputs)(x))
        >>> study = optuna.create_study(direction=data.direction)  # doctest: +SKIP
        >>> study.optimize(ss.ModelObjective(build, data, epochs=20), n_trials=30)  # doctest: +SKIP
    """

    def __init__(
        self,
        build: Callable[[optuna.Trial], keras.Model],
        data: SequenceData,
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
        if not callable(build):
            raise ConfigError(f"ModelObjective: build must be a function trial -> keras.Model, got {build!r}")
        super().__init__(
            data,
            epochs=epochs,
            batch_size=batch_size,
            patience=patience,
            seed=seed,
            prune=prune,
            multi_objective=multi_objective,
            listeners=listeners,
            verbose=verbose,
            checkpoints=checkpoints,
        )
        self.build = build

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        from stacksearch.model import active_backend, released_traces

        trial.set_user_attr("backend", active_backend())
        seed = self._trial_seed(trial)
        with released_traces():
            return self._train(trial, lambda: self._build(trial), seed, lambda: self._batch_size(trial))

    def _batch_size(self, trial: optuna.Trial) -> int:
        return int(trial.params.get("batch_size") or self.batch_size)

    def _build(self, trial: optuna.Trial) -> tuple[keras.Model, int]:
        from stacksearch.model import collected_stacks, compile_for, is_keras_model

        with collected_stacks() as stacks:
            try:
                model = self.build(trial)
            except TrialRejected as rejected:
                trial.set_user_attr("reject_reason", str(rejected))
                raise optuna.TrialPruned(f"rejected: {rejected}") from None
        if not is_keras_model(model):
            raise ConfigError(f"ModelObjective: build(trial) returned {type(model).__name__}, not a keras.Model")
        if not model.compiled:
            compile_for(model, self.data, float(trial.params.get("learning_rate", 1e-3)))
        n_params = int(model.count_params())
        trial.set_user_attr("n_params", n_params)
        for listener in self.listeners:
            listener.on_trial_start(trial, stacks[0] if stacks else ArchSpec(()))
        return model, n_params

    def _epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
        from stacksearch.train import monitor_key

        key = monitor_key(self.data.metric)
        if key not in logs:
            raise ConfigError(
                f"ModelObjective: the compiled model logs no {key!r} (only {', '.join(sorted(logs))}); "
                f"compile it with metrics=[{self.data.metric!r}] or return it uncompiled"
            )
        super()._epoch_end(trial, epoch, logs)
