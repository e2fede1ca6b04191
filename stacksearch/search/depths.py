"""The study by depth: each depth's best trial, and a fair share of the search for every depth.

:func:`best_per_depth` picks the architectures the confirmation retrains (each of the best
depths' best trial). Every depth gets a fair share of the search: a depth-stratified start-up
and a quota near the end.

Before TPE models anything, a new study runs one trial per depth of the space
(:func:`stratified_startup`: only the depth is fixed, the sampler draws the widths and the
learning rate, which stays co-tuned); near the search's end :class:`DepthQuota` queues a trial
for each depth still without a completed one, so that every compared depth has a best
architecture to confirm. The cost of the start-up is measured in
``benchmarks/search_efficiency.py`` (docs/performance.md).

Example:
    >>> study = optuna.create_study()
    >>> stratified_startup(study, (1, 2)), DepthQuota((1, 2), n_trials=2, deadline=Deadline()).check(study)
    (2, [])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.metrics import better, ranked
from stacksearch.search.loop import Deadline

__all__ = ["stratified_startup", "DepthQuota", "depth_of", "depth_leaders", "best_per_depth"]


def depth_of(trial: FrozenTrial) -> Any:
    """A trial's depth: sampled, fixed by :meth:`optuna.Study.enqueue_trial` (still waiting), or recorded."""
    fixed = trial.system_attrs.get("fixed_params") or {}
    return trial.params.get("depth", fixed.get("depth", trial.user_attrs.get("depth")))


def stratified_startup(study: optuna.Study, depth: tuple[int, int]) -> int:
    """Queue one trial per depth in a new study (the other parameters sampled); return how many were queued.

    Example:
        >>> study = optuna.create_study()
        >>> stratified_startup(study, (1, 3)), [t.system_attrs["fixed_params"] for t in study.trials]
        (3, [{'depth': 1}, {'depth': 2}, {'depth': 3}])
    """
    if study.get_trials(deepcopy=False):
        return 0
    for value in range(depth[0], depth[1] + 1):
        study.enqueue_trial({"depth": value}, skip_if_exists=True)
    return depth[1] - depth[0] + 1


class DepthQuota:
    """An Optuna callback: near the search's end, queue a trial for every depth without a completed one.

    "Near the end": the trials that still fit (:meth:`BudgetDeadline.trials_left`) are at most
    the lacking depths + 1, or the study's non-failed trials reach ``n_trials`` less the lacking
    depths. A depth with a queued or running trial is not lacking. Racing workers may queue a
    depth twice; the surplus guard of the loop stops any trial past ``n_trials``.
    """

    def __init__(self, depth: tuple[int, int], n_trials: int, deadline: Deadline) -> None:
        self.depths, self.n_trials, self.deadline = list(range(depth[0], depth[1] + 1)), n_trials, deadline

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.check(study)

    def lacking(self, trials: Sequence[FrozenTrial]) -> list[int]:
        """Depths with no completed, running or queued trial."""
        covered = {
            depth_of(t) for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
        }
        return [d for d in self.depths if d not in covered]

    def check(self, study: optuna.Study) -> list[int]:
        """Queue the lacking depths if the search is near its end; return those queued."""
        trials = study.get_trials(deepcopy=False)
        lacking = self.lacking(trials)
        if not lacking:
            return []
        taken = sum(1 for t in trials if t.state != TrialState.FAIL)
        trials_left = getattr(self.deadline, "trials_left", lambda: math.inf)()
        if taken < self.n_trials - len(lacking) and trials_left > len(lacking) + 1:
            return []
        queued = lacking[: max(0, self.n_trials - taken)]
        for depth in queued:
            study.enqueue_trial({"depth": depth})
        return queued


def depth_leaders(trials: Sequence[FrozenTrial], top: int, maximize: bool) -> list[FrozenTrial]:
    """The best of ``trials`` (complete, with values) for each depth, for the ``top`` depths with the best scores.

    Trials without a depth (made by other code) are left out; ties keep the earlier trial.
    """
    direction = "maximize" if maximize else "minimize"
    best: dict[Any, FrozenTrial] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        depth = depth_of(trial)
        if depth is None or not trial.values or not math.isfinite(trial.values[0]):
            continue
        current = best.get(depth)
        if current is None or better(trial.values[0], current.values[0], direction):
            best[depth] = trial
    return ranked(best.values(), direction, key=lambda t: t.values[0])[:top]


def best_per_depth(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """The best completed trial of each depth, for the ``top`` depths with the best scores (first objective)."""
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return depth_leaders(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), top, maximize)
