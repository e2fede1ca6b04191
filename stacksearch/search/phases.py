"""One ``stacksearch run`` in two phases: the search, then the confirmation, inside the run's budget.

:func:`plan_run` checks the budget and says the plan up front; :func:`run_phases` runs it, in
this process or in worker processes (:func:`~stacksearch.search.pool.run_pool`), each of which
runs :func:`work`: its search loop, then its share of the confirmation's retrainings
(:mod:`~stacksearch.search.confirming`). The search stops at ``n_trials`` finished trials or at
the budget's moving stop (:class:`~stacksearch.search.budget.BudgetDeadline`), whichever comes
first; under a budget without ``n_trials`` the budget alone ends it. The study records
(user attribute ``search_phase``) that its search ended, so a resumed run with the same
budget goes straight to the missing retrainings; a different budget reopens the search and
applies from now.

Every depth gets a fair share (:mod:`~stacksearch.search.fairness`): a new study starts with one
trial per depth, and a trial is queued for each depth still without a completed one when the
search is about to end (about two trials' cost left, or ``n_trials`` less the lacking depths).

Example:
    >>> plan = plan_run(load_config("studies/quickstart.yaml"), data)  # doctest: +SKIP
    >>> print(plan.lines[0])  # doctest: +SKIP
    plan: search until about 14:05, then confirm 3 depths x 3 seeds (reserved ~1m10s, guessed)
    >>> run_phases(plan, data).note  # doctest: +SKIP
    'confirmation: 3 depths x 3 seeds retrained (quickstart.confirm)'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.config import UNLIMITED, StudyConfig
from stacksearch.data import SequenceData
from stacksearch.search import confirming
from stacksearch.search.budget import (
    Budget,
    BudgetDeadline,
    check_budget,
    format_seconds,
    guess_seconds_per_epoch,
    hard_end,
    parse_budget,
)
from stacksearch.search.depths import DepthQuota, stratified_startup
from stacksearch.search.loop import POLL_SECONDS, Deadline, StopReason, trial_counts
from stacksearch.storage import fail_stale_trials, is_sqlite, open_storage, sqlite_file

__all__ = ["RunPlan", "PhaseResult", "plan_run", "run_phases", "work", "budget_record", "spent_line", "UNLIMITED"]

Callback = Callable[[optuna.Study, FrozenTrial], None]
PhaseHook = Callable[[str, "int | None", int], None]


@dataclass
class RunPlan:
    """What :func:`plan_run` decided: the search's configuration and stop, the budget, and the lines to say."""

    config: StudyConfig
    deadline: Deadline
    budget: Budget | None
    lines: list[str] = field(default_factory=list)
    closed: bool = False  # the search already ended under this budget


@dataclass
class PhaseResult:
    """How a run ended: its study, why (the loop's :class:`StopReason` for the whole run), and the confirmation."""

    study: optuna.Study
    reason: StopReason
    confirmation: dict[str, Any] | None
    note: str


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def _existing(config: StudyConfig) -> optuna.Study | None:
    """The stored study of this name, read without writing anything (None when there is none)."""
    url = config.storage_url
    if is_sqlite(url) and ((path := sqlite_file(url)) is None or not path.exists()):
        return None
    storage = open_storage(url, heartbeat=False)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    return optuna.load_study(study_name=config.study_name, storage=storage) if config.study_name in names else None


def _confirm_size(config: StudyConfig) -> tuple[int, int]:
    lo, hi = config.space.depth
    if not config.confirm.enabled:
        return 0, 0
    return min(config.confirm.top, hi - lo + 1), config.confirm.seeds


def plan_run(
    config: StudyConfig, data: SequenceData, *, started: float | None = None, origin: str = "study.budget"
) -> RunPlan:
    """Check the budget and plan the run (reads storage, writes nothing); :class:`ConfigError` for a budget too small.

    ``started``: when the command started (the budget and ``study.timeout`` count from it);
    ``origin``: where the budget came from, for the error (``--budget`` or ``study.budget``).
    """
    started = time.time() if started is None else started
    config = config.model_copy(deep=True)
    budget = parse_budget(config.study.budget)
    hard = Deadline.after(config.study.timeout, start=started)
    slots, seeds = _confirm_size(config)
    then = f"then confirm {slots} depths x {seeds} seeds" if slots else "then no confirmation (confirm: false)"
    after = f"; nothing starts after {_clock(hard.at)} (study.timeout)" if hard.at is not None else ""
    if budget is None:
        return RunPlan(config, hard, None, [f"plan: search to {config.study.n_trials} finished trials, {then}{after}"])
    existing = _existing(config)
    trials = existing.get_trials(deepcopy=False) if existing is not None else []
    record = (existing.user_attrs.get("search_phase") if existing is not None else None) or {}
    ended = bool(record.get("over")) and record.get("reason") == "budget"  # under some budget, in an earlier run
    closed = ended and record.get("budget") == [budget.kind, budget.amount]
    deadline = BudgetDeadline(
        at=hard.at,
        end=started + budget.amount if budget.kind == "seconds" else None,
        epoch_budget=int(budget.amount) if budget.kind == "epochs" else None,
        epochs_at_start=sum(int(t.user_attrs.get("epochs_trained", 0) or 0) for t in trials if t.state.is_finished()),
        epochs=config.training.epochs,
        slots=slots,
        seeds=seeds,
        workers=config.study.workers,
        guess=guess_seconds_per_epoch(data, config.space.depth, config.training.epochs),
        maximize=data.direction == "maximize",
        closed=closed,
        depth=config.space.depth,
        storage_url=config.storage_url,
        study_name=config.study_name,
    )
    found = deadline.current(trials)
    if not closed:
        elapsed = time.time() - started
        check_budget(
            budget, config, seconds_per_epoch=found.seconds_per_epoch, measured=found.measured, elapsed=elapsed,
            origin=origin, trials=trials,
        )  # fmt: skip
    explicit = "n_trials" in config.study.model_fields_set
    if not explicit:
        config.study.n_trials = UNLIMITED
    lines = [_budget_line(budget, found, started, explicit, config.study.n_trials, then, slots) + after]
    if closed:
        rest = then.removeprefix("then ")
        lines = [f"plan: the search ended under budget {budget.text} in an earlier run; {rest}, only what is missing"]
    elif ended:
        lines.append(f"resuming with budget {budget.text} (the search had ended under {record.get('text')}): "
                     "the new budget applies from now")  # fmt: skip
    elif trials:
        lines.append(f"resuming the search: budget {budget.text} counts from now")
    return RunPlan(config, deadline, budget, lines, closed)


def _budget_line(
    budget: Budget, found: Any, started: float, explicit: bool, n_trials: int, then: str, slots: int
) -> str:
    how = "measured" if found.measured else "guessed"
    if budget.kind == "epochs":
        until = f"search until {int(budget.amount) - found.epochs} epochs are spent"
        reserved = f" (reserved {found.epochs} epochs)" if slots else ""
    else:
        until = f"search until about {_clock(started + budget.amount - found.seconds)}"
        reserved = f" (reserved ~{format_seconds(found.seconds)}, {how})" if slots else ""
    trials = f" or {n_trials} finished trials, whichever comes first" if explicit else ""
    return f"plan: {until}{trials}, {then}{reserved}; budget {budget.text}"


def _search_over(reason: StopReason, deadline: Deadline) -> bool:
    """The search phase ended: at ``n_trials``, or at the budget's stop (not the hard end, not a stop or recycle)."""
    if reason is StopReason.TARGET:
        return True
    return reason is StopReason.DEADLINE and isinstance(deadline, BudgetDeadline) and not deadline.hard().expired()


def _settle(study: optuna.Study, stop: threading.Event, deadline: Deadline) -> bool:
    """Wait until no search trial runs anywhere (failing stale ones); False when stopped or past the hard end first."""
    while True:
        fail_stale_trials(study)
        if trial_counts(study)[TrialState.RUNNING] == 0:
            return True
        if stop.is_set() or deadline.expired():
            return False
        stop.wait(POLL_SECONDS)


def _record(study: optuna.Study, config: StudyConfig, over: bool, reason: str = "") -> None:
    budget = parse_budget(config.study.budget)
    study.set_user_attr(
        "search_phase",
        {
            "over": over,
            "reason": reason,
            "budget": None if budget is None else [budget.kind, budget.amount],
            "text": None if budget is None else budget.text,
        },
    )


def work(
    config: StudyConfig,
    data: SequenceData,
    *,
    stop: threading.Event,
    deadline: Deadline,
    callbacks: Sequence[Callback] = (),
    max_trials: int | None = None,
) -> StopReason:
    """One worker's run: its search loop, then (once the search has ended everywhere) its share of the retrainings.

    Returns the search loop's reason when the search did not end here (stopped, the hard
    end, or ``RECYCLE`` after ``max_trials``), else the confirmation's.
    """
    from stacksearch.search.loop import RunResult, run_trials
    from stacksearch.search.setup import prepare_study

    if isinstance(deadline, BudgetDeadline) and deadline.closed:  # straight to the confirmation: no framework
        result = RunResult(prepare_study(config, data, config.space.to_space()), StopReason.DEADLINE)
    else:
        grid = config.study.sampler == "grid"
        quota = [] if grid else [DepthQuota(config.space.depth, config.study.n_trials, deadline)]
        result = run_trials(
            config, callbacks=[*quota, *callbacks], stop=stop, data=data, max_trials=max_trials, deadline=deadline
        )
    hard = hard_end(deadline)
    if not _search_over(result.reason, deadline) or not _settle(result.study, stop, hard):
        return result.reason
    _record(result.study, config, True, "target" if result.reason is StopReason.TARGET else "budget")
    if not config.confirm.enabled:
        return result.reason
    return confirming.confirm_here(result.study, config, data, stop=stop, hard=hard, deadline=deadline)


def prepare(config: StudyConfig, data: SequenceData, deadline: Deadline, closed: bool = False) -> optuna.Study:
    """Create or resume the search study, with the stratified start-up (new studies) and the depth quota checked."""
    from stacksearch.search.setup import prepare_study

    study = prepare_study(config, data, config.space.to_space())
    if config.study.sampler != "grid" and not hard_end(deadline).expired():  # past the timeout nothing is queued
        stratified_startup(study, config.space.depth)
        DepthQuota(config.space.depth, config.study.n_trials, deadline).check(study)
    if not closed and (study.user_attrs.get("search_phase") or {}).get("over"):
        _record(study, config, False)  # the search reopens (a new budget, or more n_trials)
    return study


def run_phases(
    plan: RunPlan,
    data: SequenceData,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    on_phase: PhaseHook | None = None,
) -> PhaseResult:
    """Run the plan: search, then confirm, in this process or in ``study.workers`` worker processes.

    ``callbacks`` get ``(study, trial)`` as search trials finish; ``on_phase(phase, total,
    done)`` is told when the confirmation starts and as its retrainings finish.
    """
    from stacksearch.search.pool import run_pool, uses_worker_processes

    config, deadline = plan.config, plan.deadline
    stop = stop or threading.Event()
    study = prepare(config, data, deadline, plan.closed)
    watcher = confirming.Watcher(config, on_phase) if on_phase is not None else None
    try:
        if uses_worker_processes(config):
            reason = run_pool(
                config, config.study.workers, callbacks=callbacks, stop=stop, data=data, deadline=deadline
            ).reason
        else:
            reason = work(config, data, stop=stop, deadline=deadline, callbacks=callbacks)
    finally:
        if watcher is not None:
            watcher.finish()
    confirmation, note, settled = confirming.outcome(study, config)
    done = settled and bool((study.user_attrs.get("search_phase") or {}).get("over"))
    if stop.is_set():
        reason = StopReason.STOPPED
    elif done:
        reason = StopReason.TARGET
    elif hard_end(deadline).expired():
        reason = StopReason.DEADLINE
    return PhaseResult(study, reason, confirmation, note)


def budget_record(plan: RunPlan, study: optuna.Study, started: float) -> dict[str, Any] | None:
    """The ``budget`` study attribute (and ``verdict.json`` field): what was planned and what the run spent.

    None without a budget. Seconds count from ``started`` (the command's start); epochs are
    the search's since this run began and the retrainings' in all.
    """
    budget = plan.budget
    if budget is None:
        return None
    trained = sum(int(t.user_attrs.get("epochs_trained", 0) or 0) for t in study.get_trials(deepcopy=False))
    try:
        confirm = optuna.load_study(study_name=confirming.confirm_name(study.study_name), storage=study._storage)
        retrained = sum(int(t.user_attrs.get("epochs_trained", 0) or 0) for t in confirm.get_trials(deepcopy=False))
    except KeyError:
        retrained = 0
    section = plan.config.confirm
    return {
        "planned": {
            "budget": budget.text,
            "kind": budget.kind,
            "amount": budget.amount,
            "confirm": {"top": section.top, "seeds": section.seeds} if section.enabled else None,
        },
        "spent": {
            "seconds": round(time.time() - started, 1),
            "search_epochs": trained - int(getattr(plan.deadline, "epochs_at_start", 0)),
            "retraining_epochs": retrained,
        },
    }


def spent_line(record: dict[str, Any] | None) -> str:
    """One line from :func:`budget_record`: the budget planned and what the run spent of it.

    Example:
        >>> spent_line({"planned": {"budget": "2m30s", "kind": "seconds"},
        ...             "spent": {"seconds": 168.0, "search_epochs": 80, "retraining_epochs": 72}})
        'budget: 2m30s planned, 2m48s spent'
    """
    if record is None:
        return "budget: none"
    planned, spent = record["planned"], record["spent"]
    if planned["kind"] == "seconds":
        return f"budget: {planned['budget']} planned, {format_seconds(spent['seconds'])} spent"
    return (
        f"budget: {planned['budget']} planned; {spent['search_epochs']} search epochs spent, "
        f"{spent['retraining_epochs']} retraining epochs in all"
    )
