"""The trial loop of one worker: run (or resume) a study from a :class:`StudyConfig` in this process.

``n_trials`` is a target for the study, not an increment: running the same command
again (after Ctrl-C, a crash, or from another worker) tops the study up to ``n_trials``
finished (complete + pruned) trials, and several workers stop together at exactly that.

One run has one clock: a :class:`Deadline` (``study.timeout`` seconds from the start of the
run, data loading included) made once by whoever starts the run (``stacksearch run``,
:func:`run_trials`, :func:`~stacksearch.search.pool.run_workers`) and handed to every worker
process. The loop says why it stopped (:class:`StopReason`); :func:`run_trials` returns that
with the study (:class:`RunResult`), and :func:`run_study` is the same call returning the
study alone, as Optuna code expects.

Example:
    >>> import stacksearch as ss
    >>> study = ss.run_study(ss.load_config("studies/quickstart.yaml"))  # doctest: +SKIP
    >>> study.best_trial.user_attrs["widths"]  # doctest: +SKIP
    [32, 32]
    >>> run_trials(ss.load_config("studies/quickstart.yaml")).reason  # doctest: +SKIP
    <StopReason.TARGET: 'target'>
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.host import worker_label
from stacksearch.search.setup import prepare_study
from stacksearch.sources import load_study_data
from stacksearch.states import FINISHED
from stacksearch.storage import add_stale_hook, fail_stale_trials

if TYPE_CHECKING:
    from stacksearch.tracking import MLflowTracker

__all__ = ["run_study", "run_trials", "RunResult", "Deadline", "StopReason", "trial_counts", "FINISHED", "make_tracker"]

_log = logging.getLogger(__name__)
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Deadline:
    """The wall-clock time after which a run starts no trial; ``at`` is seconds since the epoch, None for never.

    Absolute (``time.time()``), so it means the same in every process of the run on this
    machine: a worker started late, or after loading its data, gets what is left of it.
    A trial that started before the deadline runs to its end.

    Example:
        >>> deadline = Deadline.after(60, start=1000.0)
        >>> deadline.at, deadline.remaining(now=1045.0), deadline.expired(now=1061.0)
        (1060.0, 15.0, True)
        >>> Deadline.from_json(deadline.to_json()) == deadline, Deadline().remaining()
        (True, inf)
    """

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None, *, start: float | None = None) -> Deadline:
        """``seconds`` after ``start`` (default now); never when ``seconds`` is None."""
        if seconds is None:
            return cls()
        return cls((time.time() if start is None else start) + seconds)

    def remaining(self, *, now: float | None = None) -> float:
        """Seconds left (0.0 once passed, never negative; ``math.inf`` without a deadline)."""
        if self.at is None:
            return math.inf
        return max(0.0, self.at - (time.time() if now is None else now))

    def expired(self, *, now: float | None = None) -> bool:
        """The deadline has passed."""
        return self.remaining(now=now) == 0.0

    def to_json(self) -> float | dict[str, Any] | None:
        """The deadline as a JSON value: ``at`` here; a subclass may write a dict.

        :func:`~stacksearch.search.budget.deadline_from_json` reads either back.
        """
        return self.at

    @classmethod
    def from_json(cls, value: float | None) -> Deadline:
        return cls(None if value is None else float(value))


class StopReason(str, Enum):
    """Why a trial loop (or a run of workers) stopped; the first that holds, in this order."""

    TARGET = "target"  # the study holds its n_trials finished trials
    DEADLINE = "deadline"  # the run's timeout passed
    STOPPED = "stopped"  # asked to stop (Ctrl-C, SIGTERM): after the running trial
    RECYCLE = "recycle"  # this process ran its max_trials; a fresh one is to take over


@dataclass
class RunResult:
    """What :func:`run_trials` returns: the study and why its loop stopped."""

    study: optuna.Study
    reason: StopReason


def trial_counts(study: optuna.Study) -> dict[TrialState, int]:
    """How many trials of the study are in each state (read fresh from storage)."""
    counts = {state: 0 for state in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
    return counts


class _TargetGuard:
    """Wraps an objective so that racing workers never run past ``n_trials``.

    A trial numbered after ``n_trials`` trials that are not FAIL (finished, running or
    queued) is surplus: it ends FAIL with ``fail_reason`` "surplus" without training. A
    retried trial (queued by RetryHeartbeatStaleTrialCallback) takes its dead original's
    place, which is FAIL and no longer counts.
    """

    def __init__(self, objective: Callable, n_trials: int, multi: bool) -> None:
        self.objective, self.n_trials, self.multi = objective, n_trials, multi
        self.lost: int | None = None  # a trial another worker failed as stale while it ran here

    def __call__(self, trial: optuna.Trial) -> Any:
        try:
            trial.set_user_attr("worker", worker_label())
            ahead = sum(
                1
                for t in trial.study.get_trials(deepcopy=False)
                if t.number < trial.number and t.state != TrialState.FAIL
            )
            if ahead >= self.n_trials:
                trial.set_user_attr("fail_reason", f"surplus: the study already has {self.n_trials} trials")
                trial.study.stop()
                return (math.nan, math.nan) if self.multi else math.nan
            return self.objective(trial)
        finally:
            if trial.storage.get_trial(trial._trial_id).state.is_finished():
                self.lost = trial.number


def run_study(
    config: StudyConfig,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    data: SequenceData | None = None,
    max_trials: int | None = None,
    deadline: Deadline | None = None,
) -> optuna.Study:
    """Run (or resume) the study described by ``config`` in this process; return it.

    Stops at ``n_trials`` finished trials, at the ``deadline`` (default: ``study.timeout``
    from this call), when ``stop`` is set, or after ``max_trials`` trials ran here;
    :func:`run_trials` takes the same arguments and also says which.

    Example:
        >>> study = run_study(load_config("studies/quickstart.yaml"))  # doctest: +SKIP
    """
    return run_trials(config, callbacks=callbacks, stop=stop, data=data, max_trials=max_trials, deadline=deadline).study


def run_trials(
    config: StudyConfig,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    data: SequenceData | None = None,
    max_trials: int | None = None,
    deadline: Deadline | None = None,
) -> RunResult:
    """Run (or resume) the study described by ``config`` in this process; return it and why it stopped.

    Input is validated and data loaded before anything is written to storage. Stops
    when the study holds ``n_trials`` finished trials (:attr:`StopReason.TARGET`), at the
    ``deadline`` (``DEADLINE``; default: ``study.timeout`` from this call, so data loading
    counts), when ``stop`` is set (``STOPPED``, after the running trial), or after
    ``max_trials`` trials ran in this process (``RECYCLE``: a worker that is then replaced
    by a fresh process; see ``study.recycle_after``). This is one worker: run it in several
    processes or on several machines against one storage, or use
    :func:`stacksearch.search.pool.run_workers` (``stacksearch run --workers N``).

    Example:
        >>> result = run_trials(load_config("studies/quickstart.yaml"), deadline=Deadline.after(600))  # doctest: +SKIP
        >>> result.reason, len(result.study.trials)  # doctest: +SKIP
        (<StopReason.TARGET: 'target'>, 10)
    """
    from stacksearch.objective import StackedLSTMObjective

    deadline = deadline if deadline is not None else Deadline.after(config.study.timeout)
    data = data if data is not None else load_study_data(config)
    space = config.space.to_space()
    start_backend(config)
    tracker = make_tracker(config)
    study = prepare_study(config, data, space)
    if tracker is not None:
        tracker.setup(
            study,
            space=config.space.model_dump(mode="json"),
            benchmark=study.user_attrs.get("benchmark"),
            config={**config.model_dump(mode="json"), "study": config.study.described()},
        )
        add_stale_hook(study._storage, tracker)  # a dead worker's trial: its run ends FAILED
    objective = StackedLSTMObjective(
        data,
        space,
        epochs=config.training.epochs,
        batch_size=config.training.batch_size,
        patience=config.training.patience,
        seed=config.study.seed,
        multi_objective=config.study.multi_objective,
        listeners=[tracker] if tracker else [],
        checkpoints=_checkpoints(config),
        reuse_models=config.training.reuse_models,
    )
    guarded = _TargetGuard(objective, config.study.n_trials, config.study.multi_objective)
    all_callbacks = ([tracker] if tracker else []) + list(callbacks)
    _freeze_long_lived_objects()
    try:
        reason = _work(study, guarded, config, all_callbacks, stop or threading.Event(), max_trials, deadline=deadline)
    finally:
        gc.unfreeze()
        if tracker is not None:
            tracker.close(study)  # the parent run ends FINISHED once no trial still runs
    return RunResult(study, reason)


def make_tracker(config: StudyConfig) -> MLflowTracker | None:
    """The study's MLflow tracker (its experiment, URI and model logging), or None with tracking off."""
    if not config.tracking.enabled:
        return None
    from stacksearch.tracking import MLflowTracker

    return MLflowTracker(
        tracking_uri=config.tracking_uri,
        experiment=config.tracking.experiment or config.study_name,
        log_models=config.tracking.log_models,
    )


def start_backend(config: StudyConfig) -> str:
    """Load the study's Keras backend; on JAX, with the study's compilation cache folder (shared by its workers).

    The folder is ``jax-cache/<study>`` in the study's artifacts folder (beside an SQLite file, else
    ``study.artifacts`` or ``STACKSEARCH_ARTIFACTS``), so every worker and replacement process of
    one study, on one machine or a shared disk, reads the programs the others compiled.
    """
    from stacksearch.backend import select_backend, use_compilation_cache
    from stacksearch.checkpoint import CheckpointStore

    backend = select_backend(config.backend)
    folder = CheckpointStore.for_config(config.storage_url, config.study.artifacts).folder
    use_compilation_cache(Path(folder) / "jax-cache" / config.study_name)
    return backend


def _checkpoints(config: StudyConfig) -> Any:
    """The per-epoch checkpoint store of the study's trials (None when turned off)."""
    if not config.study.checkpoints:
        return None
    from stacksearch.checkpoint import CheckpointStore

    return CheckpointStore.for_config(config.storage_url, config.study.artifacts)


def _freeze_long_lived_objects() -> None:
    """Move what exists now (framework modules, data, storage) out of the garbage collector's sight.

    Every trial's ``clear_session`` runs a full collection; without this it walks the
    hundreds of thousands of objects TensorFlow/JAX create at import, every trial
    (measured in docs/performance.md). Undone by ``gc.unfreeze()`` when the study loop ends.
    """
    gc.collect()
    gc.freeze()


def _work(
    study: optuna.Study,
    objective: _TargetGuard,
    config: StudyConfig,
    callbacks: list[Callback],
    stop: threading.Event,
    max_trials: int | None = None,
    *,
    deadline: Deadline = Deadline(),
) -> StopReason:
    """Run trials until the study holds ``n_trials`` finished ones (shared by all workers); say why it stopped.

    While the last trials run on other workers, wait and look for stale ones: a dead
    worker's trial is failed after the grace period and queued again, and then taken here.
    No trial starts after ``deadline`` (the run's; ``config.study.timeout`` is not read
    here). Returns early after ``max_trials`` trials ran here, unless the study is done.
    """
    target = config.study.n_trials
    ran = 0
    while True:
        counts = trial_counts(study)
        finished = sum(counts[s] for s in FINISHED)
        if finished >= target:
            return StopReason.TARGET
        if stop.is_set():
            return StopReason.STOPPED
        if deadline.expired():
            return StopReason.DEADLINE
        if max_trials is not None and ran >= max_trials:
            return StopReason.RECYCLE
        pending = counts[TrialState.RUNNING] + counts[TrialState.WAITING]
        fail_stale_trials(study)  # before Optuna's own check in optimize(): with a fail_reason
        if finished + pending >= target and counts[TrialState.WAITING] == 0:
            stop.wait(min(POLL_SECONDS, deadline.remaining()))
            continue
        ran += 1
        try:
            study.optimize(objective, n_trials=1, callbacks=callbacks)
        except Exception as err:
            lost = getattr(objective, "lost", None)
            if lost is None:
                raise
            # Another worker found this trial stale (missed heartbeats: a hung or starved
            # worker) and queued a retry; that copy counts, this result is dropped.
            objective.lost = None
            _log.warning(
                "trial %d was failed as stale by another worker while it ran here; its retry counts instead (%s: %s)",
                lost,
                type(err).__name__,
                err,
            )
