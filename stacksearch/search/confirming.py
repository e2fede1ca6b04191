"""The confirmation phase: retrainings as trials of a sibling study, shared by the workers like search trials.

After the search, each of the ``top`` best depths' best trial is retrained with ``seeds``
fresh seeds. Each retraining is a WAITING trial of the study ``<name>.confirm`` in the same
storage, queued with the source trial's parameters and user attributes ``source_trial``,
``confirm_seed`` (the training seed, :data:`SEED_OFFSET` + the seed's index) and ``depth``;
any worker whose search loop has ended takes them (:func:`run_retrainings`). So a resumed run
retrains only what is missing: a COMPLETE retraining is never repeated, a RUNNING one whose
worker died is failed by the heartbeat and queued again (as search trials are), and a
retraining that finds its (source trial, seed) already taken ends FAIL without training
(``fail_reason`` "duplicate"), so nothing is retrained twice even when two workers queue the
same seeds at once. :func:`collect` turns the finished retrainings into the search study's
``confirmation`` user attribute, in the shape the report reads
(:mod:`stacksearch.report.confirmation`).

Example:
    >>> confirm_name("quickstart")
    'quickstart.confirm'
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.host import worker_label
from stacksearch.search.budget import BudgetDeadline
from stacksearch.search.depths import best_per_depth, depth_of
from stacksearch.search.loop import POLL_SECONDS, Deadline, StopReason, make_tracker, trial_counts
from stacksearch.stats.sequential import design_for
from stacksearch.storage import fail_stale_trials, open_storage

if TYPE_CHECKING:
    from stacksearch.tracking import MLflowTracker

__all__ = [
    "SEED_OFFSET",
    "confirm_name",
    "open_confirm_study",
    "enqueue_missing",
    "run_retrainings",
    "collect",
    "Retraining",
    "confirm_here",
    "outcome",
    "Watcher",
    "next_seed_count",
]

_log = logging.getLogger(__name__)
SEED_OFFSET = 10_000
_NOT_FINAL = ("worker lost", "surplus", "duplicate")  # FAIL reasons that are no result of the retraining
Callback = Callable[[optuna.Study, FrozenTrial], None]


def confirm_name(study_name: str) -> str:
    """The name of ``study_name``'s confirmation study."""
    return f"{study_name}.confirm"


def open_confirm_study(study: optuna.Study, *, seed: int | None = None) -> optuna.Study:
    """Create or load ``study``'s confirmation study in the same storage (direction: its first objective)."""
    confirm = optuna.create_study(
        storage=study._storage,
        study_name=confirm_name(study.study_name),
        direction=study.directions[0],
        load_if_exists=True,
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.NopPruner(),
    )
    if "source_study" not in confirm.user_attrs:
        confirm.set_user_attr("source_study", study.study_name)
    return confirm


def _key(attrs: dict[str, Any]) -> tuple[int, int] | None:
    source, seed = attrs.get("source_trial"), attrs.get("confirm_seed")
    return None if source is None or seed is None else (int(source), int(seed))


def _final(trial: FrozenTrial) -> bool:
    """A finished retraining whose outcome stands (COMPLETE, or failed or pruned by the training itself)."""
    if trial.state == TrialState.COMPLETE:
        return True
    reason = str(trial.user_attrs.get("fail_reason") or trial.user_attrs.get("reject_reason") or "")
    return trial.state in (TrialState.FAIL, TrialState.PRUNED) and bool(reason) and not reason.startswith(_NOT_FINAL)


def _taken(trial: FrozenTrial) -> bool:
    """This retraining is done, running or queued: none is to be queued for its (source, seed)."""
    return trial.state in (TrialState.WAITING, TrialState.RUNNING) or _final(trial)


def enqueue_missing(confirm: optuna.Study, candidates: Sequence[FrozenTrial], seeds: int) -> int:
    """Queue the retrainings of ``candidates`` x ``seeds`` that are not done, running or queued; return how many.

    A retraining interrupted in an earlier run (FAIL without a training reason) counts as missing.
    """
    taken = {key for t in confirm.get_trials(deepcopy=False) if _taken(t) and (key := _key(t.user_attrs))}
    added = 0
    for trial in candidates:
        for index in range(seeds):
            if (trial.number, SEED_OFFSET + index) in taken:
                continue
            attrs = {"source_trial": trial.number, "confirm_seed": SEED_OFFSET + index, "depth": depth_of(trial)}
            confirm.enqueue_trial(params=dict(trial.params), user_attrs=attrs)
            added += 1
    return added


class Retraining:
    """Wraps the objective of the confirmation study: trains only a queued retraining not taken by another.

    A trial the sampler made (no retraining was waiting when this worker asked) or a
    duplicate of one that is done, running or queued before it ends FAIL at once, with
    ``fail_reason`` saying which.
    """

    def __init__(self, objective: Callable[[optuna.Trial], Any]) -> None:
        self.objective = objective

    def __call__(self, trial: optuna.Trial) -> Any:
        trial.set_user_attr("worker", worker_label())
        key = _key(trial.user_attrs)
        if key is None:
            trial.set_user_attr("fail_reason", "surplus: no retraining was waiting")
            return math.nan
        for other in trial.study.get_trials(deepcopy=False):
            if other.number == trial.number or _key(other.user_attrs) != key:
                continue
            earlier_queued = other.state == TrialState.WAITING and other.number < trial.number
            if other.state == TrialState.RUNNING or earlier_queued or _final(other):
                trial.set_user_attr("fail_reason", f"duplicate of retraining {other.number}")
                return math.nan
        return self.objective(trial)


def run_retrainings(
    confirm: optuna.Study,
    objective: Callable[[optuna.Trial], Any],
    *,
    stop: threading.Event,
    deadline: Deadline = Deadline(),
    callbacks: Sequence[Callback] = (),
) -> StopReason:
    """Run the confirmation study's queued retrainings until none is queued or running; say why it stopped.

    While others' retrainings run, wait and fail stale ones (their retries are queued and taken
    here). Starts nothing after ``deadline`` (the run's hard end) or once ``stop`` is set.
    """
    guarded = Retraining(objective)
    while True:
        if stop.is_set():
            return StopReason.STOPPED
        if deadline.expired():
            return StopReason.DEADLINE
        fail_stale_trials(confirm)
        counts = trial_counts(confirm)
        if counts[TrialState.WAITING] == 0:
            if counts[TrialState.RUNNING] == 0:
                return StopReason.TARGET
            stop.wait(min(POLL_SECONDS, deadline.remaining()))
            continue
        try:
            confirm.optimize(guarded, n_trials=1, callbacks=list(callbacks))
        except optuna.exceptions.UpdateFinishedTrialError as err:  # failed as stale by another worker meanwhile
            _log.warning(
                "a retraining was failed as stale by another worker while it ran here; its retry counts (%s)", err
            )


def collect(
    confirm: optuna.Study, candidates: Sequence[FrozenTrial], seeds: int, top: int
) -> tuple[dict[str, Any] | None, int]:
    """The ``confirmation`` attribute once each retraining of ``candidates`` x ``seeds`` ended; how many have not.

    Each result lists its seeds' scores in seed order (NaN for a retraining that failed).

    Example:
        >>> confirmation, missing = collect(confirm, best_per_depth(study, 3), 3, 3)  # doctest: +SKIP
        >>> missing, confirmation["results"][0]["values"]  # doctest: +SKIP
        (0, [0.0091, 0.0104, 0.0087])
    """
    found: dict[tuple[int, int], float] = {}
    for trial in confirm.get_trials(deepcopy=False):
        key = _key(trial.user_attrs)
        if key is None or not _final(trial):
            continue
        value = trial.values[0] if trial.state == TrialState.COMPLETE and trial.values else math.nan
        if key not in found or math.isnan(found[key]):
            found[key] = value
    results, missing = [], 0
    for trial in candidates:
        values = []
        for index in range(seeds):
            value = found.get((trial.number, SEED_OFFSET + index))
            missing += value is None
            values.append(math.nan if value is None else float(value))
        results.append(
            {
                "depth": depth_of(trial),
                "widths": trial.user_attrs.get("widths"),
                "trial": trial.number,
                "values": values,
            }
        )
    if missing:
        return None, missing
    return {"seeds": seeds, "top": top, "study": confirm.study_name, "results": results}, 0


def next_seed_count(study: optuna.Study) -> int | None:
    """The seeds per architecture of the sequential design's next look, or None: stop adding seeds.

    None without a design (``confirm.max_seeds`` unset or not above ``seeds``), once the answer is
    decided, when more seeds than ``max_seeds`` would be needed, or when the schedule is done
    (:meth:`~stacksearch.stats.sequential.SequentialDesign.next_seeds`). The answer is the one the
    report prints, read from the study's ``confirmation`` and ``confirm`` user attributes, so the
    run tests each look at the level the report states.
    """
    design = design_for(study.user_attrs.get("confirm"))
    confirmation = study.user_attrs.get("confirmation")
    if design is None or not confirmation:
        return None
    from stacksearch.report.study_answer import study_answer

    more = design.next_seeds(study_answer(study).answer)
    return int(confirmation["seeds"]) + max(more.values()) if more else None


def _checkpoints(config: StudyConfig) -> Any:
    from stacksearch.search.loop import _checkpoints as checkpoints

    return checkpoints(config)


def confirm_here(
    study: optuna.Study,
    config: StudyConfig,
    data: SequenceData,
    *,
    stop: threading.Event,
    hard: Deadline,
    deadline: Deadline,
    objective: Callable[[optuna.Trial], Any] | None = None,
) -> StopReason:
    """Queue what is missing of the confirmation and retrain it here, adding seeds while undecided and in budget."""
    candidates = best_per_depth(study, config.confirm.top)
    if not candidates:
        return StopReason.TARGET
    settings = config.confirm.attrs()
    if study.user_attrs.get("confirm") != settings:  # what the report tests with, and next_seed_count reads
        study.set_user_attr("confirm", settings)
    confirm = open_confirm_study(study, seed=config.study.seed)
    seeds = max(config.confirm.seeds, int(confirm.user_attrs.get("seeds", 0)))
    if confirm.user_attrs.get("seeds") != seeds:
        confirm.set_user_attr("seeds", seeds)
    enqueue_missing(confirm, candidates, seeds)
    tracker = _tracker(config, confirm, study)
    if objective is None:
        from stacksearch.objective import StackedLSTMObjective

        training = config.training
        objective = StackedLSTMObjective(
            data,
            config.space.to_space(),
            epochs=training.epochs,
            batch_size=training.batch_size,
            patience=training.patience,
            seed=config.study.seed,
            prune=False,
            listeners=[tracker] if tracker else [],
            checkpoints=_checkpoints(config),
            reuse_models=training.reuse_models,
        )
    callbacks = [_results_only(tracker)] if tracker else []
    try:
        while True:
            reason = run_retrainings(confirm, objective, stop=stop, deadline=hard, callbacks=callbacks)
            confirmation, _ = collect(confirm, candidates, seeds, config.confirm.top)
            if reason is not StopReason.TARGET or confirmation is None:
                return reason
            study.set_user_attr("confirmation", confirmation)
            target = next_seed_count(study)
            if target is None or target <= seeds:
                return reason
            if not _room_for(confirm, deadline, len(candidates) * (target - seeds), config.training.epochs):
                return reason
            seeds = target
            confirm.set_user_attr("seeds", seeds)
            enqueue_missing(confirm, candidates, seeds)
    finally:
        if tracker is not None:
            tracker.close(confirm)


def _tracker(config: StudyConfig, confirm: optuna.Study, study: optuna.Study) -> MLflowTracker | None:
    """The retrainings' tracker: the confirmation's own parent run, nested in the search's, in its experiment."""
    tracker = make_tracker(config)
    if tracker is not None:
        tracker.setup(confirm, space=config.space.model_dump(mode="json"), benchmark=study.user_attrs.get("benchmark"))
        tracker.nest(confirm, study)
    return tracker


def _results_only(tracker: MLflowTracker) -> Callback:
    """The tracker as a callback that skips the FAIL trials which are no retraining (surplus, duplicate)."""

    def track(confirm: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL or _final(trial):
            tracker(confirm, trial)

    return track


def _room_for(confirm: optuna.Study, deadline: Deadline, trainings: int, epochs: int) -> bool:
    """Whether ``trainings`` more retrainings fit in the budget (always without one), at the retrainings' own pace."""
    if not isinstance(deadline, BudgetDeadline):
        return True
    done = confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if deadline.end is not None:
        walls = sorted(
            (t.datetime_complete - t.datetime_start).total_seconds()
            for t in done
            if t.datetime_start and t.datetime_complete
        )
        per = walls[len(walls) // 2] if walls else math.inf
        return time.time() + trainings * per / max(1, deadline.workers) <= deadline.end
    if deadline.epoch_budget is not None:
        search = deadline.current().spent_epochs - deadline.epochs_at_start
        retrained = sum(int(t.user_attrs.get("epochs_trained", 0) or 0) for t in done)
        return search + retrained + trainings * epochs <= deadline.epoch_budget
    return True


def outcome(study: optuna.Study, config: StudyConfig) -> tuple[dict[str, Any] | None, str, bool]:
    """The confirmation as it stands (written to the study once complete), a line saying so, and whether it is settled.

    Settled: complete, turned off, or impossible (no completed trial records a depth).
    """
    if not config.confirm.enabled:
        return None, "confirmation: off (confirm: false)", True
    candidates = best_per_depth(study, config.confirm.top)
    if not candidates:
        return None, "confirmation: cannot compare depths: no completed trial records its depth", True
    names = {s.study_name for s in optuna.get_all_study_summaries(study._storage, include_best_trial=False)}
    record = study.user_attrs.get("search_phase") or {}
    if confirm_name(study.study_name) not in names or not record.get("over"):
        total = len(candidates) * config.confirm.seeds
        return None, f"confirmation: not started ({total} retrainings once the search has ended)", False
    confirm = open_confirm_study(study)
    seeds = max(config.confirm.seeds, int(confirm.user_attrs.get("seeds", 0)))
    confirmation, missing = collect(confirm, candidates, seeds, config.confirm.top)
    if confirmation is None:
        left = f"{missing} of {len(candidates) * seeds} retrainings left"
        return None, f"confirmation: {left}; run the same command to continue", False
    if study.user_attrs.get("confirmation") != confirmation:
        study.set_user_attr("confirmation", confirmation)
    return (
        confirmation,
        f"confirmation: {len(candidates)} depths x {seeds} seeds retrained ({confirm.study_name})",
        True,
    )


class Watcher:
    """Tells ``on_phase`` how the confirmation goes, from storage (every worker's retrainings), once a second."""

    def __init__(self, config: StudyConfig, on_phase: Callable[[str, int | None, int], None]) -> None:
        self.config, self.on_phase, self.done = config, on_phase, threading.Event()
        self.thread = threading.Thread(target=self._run, name="stacksearch-phase", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        study: optuna.Study | None = None
        while not self.done.wait(1.0):
            try:
                if study is None:
                    storage = open_storage(self.config.storage_url, heartbeat=False)
                    study = optuna.load_study(study_name=self.config.study_name, storage=storage)
                self.tell(study)
            except Exception:  # noqa: BLE001 - a busy database must not stop the run; the next look tells
                continue

    def tell(self, study: optuna.Study) -> None:
        if not (study.user_attrs.get("search_phase") or {}).get("over") or not self.config.confirm.enabled:
            return
        candidates = best_per_depth(study, self.config.confirm.top)
        try:
            confirm = optuna.load_study(study_name=confirm_name(study.study_name), storage=study._storage)
        except KeyError:
            return
        seeds = max(self.config.confirm.seeds, int(confirm.user_attrs.get("seeds", 0)))
        _, missing = collect(confirm, candidates, seeds, self.config.confirm.top)
        total = len(candidates) * seeds
        self.on_phase("confirm", total, total - missing)

    def finish(self) -> None:
        """Stop watching, after one last look."""
        self.done.set()
        self.thread.join(timeout=5)
        try:
            self.tell(optuna.load_study(study_name=self.config.study_name, storage=self.config.storage_url))
        except Exception:  # noqa: BLE001 - the bar's last update is not worth failing the run for
            pass
