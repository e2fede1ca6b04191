"""Depth-by-width, per-depth, cost and outcome tables: pure functions of a study.

Each function takes an ``optuna.Study`` (or the :class:`~stacksearch.report.trials.StudyData`
read from one) and returns rows as frozen dataclasses whose fields are the columns.
Only completed trials give scores; pruned and failed trials are counted apart.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> for depth, units, value in [(1, 32, 0.3), (2, 32, 0.2), (2, 32, 0.6)]:
    ...     study.add_trial(optuna.trial.create_trial(
    ...         params={"depth": depth, "units": units}, value=value,
    ...         distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> [(r.depth, r.width, r.n_complete, r.best_value, r.median_value)
    ...  for r in depth_width_table(study)]
    [(1, '32', 1, 0.3, 0.3), (2, '32', 2, 0.2, 0.4)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from optuna.trial import TrialState

from stacksearch.exceptions import NoCompletedTrialError
from stacksearch.metrics import metric_bounds
from stacksearch.report.stats import median, shown_interval
from stacksearch.report.trials import StudyData, StudyLike, TrialRecord, as_data
from stacksearch.states import ENDED

__all__ = [
    "WidthBins",
    "width_bins",
    "DepthWidthRow",
    "DEPTH_WIDTH_COLUMNS",
    "depth_width_table",
    "depth_width_bins",
    "DepthRow",
    "depth_summary",
    "CostRow",
    "cost_table",
    "ReasonRow",
    "unfinished_reasons",
    "Headline",
    "headline",
]

MAX_EXACT_WIDTHS = 8


@dataclass(frozen=True)
class WidthBins:
    """Width columns of the heatmap and the CSV.

    With at most 8 distinct widths each is its own column (label ``"64"``); otherwise the
    columns are powers-of-two bins ``[lo, 2 lo)`` labelled ``"lo-(2 lo - 1)"``, e.g. ``"32-63"``
    (a per-layer mean width of 63.5 falls in it too).
    """

    lows: tuple[float, ...]
    exact: bool

    def index(self, width: float) -> int:
        """Column of ``width``."""
        if self.exact:
            return self.lows.index(width)
        return int(math.floor(math.log2(width))) - int(math.log2(self.lows[0]))

    def label(self, index: int) -> str:
        """Column label, e.g. ``"64"`` or ``"32-63"``."""
        low = self.lows[index]
        return _number(low) if self.exact else f"{_number(low)}-{_number(2 * low - 1)}"

    @property
    def labels(self) -> list[str]:
        """All column labels, narrowest first."""
        return [self.label(i) for i in range(len(self.lows))]


def width_bins(widths: Iterable[float]) -> WidthBins:
    """Width columns for these widths (see :class:`WidthBins`).

    Example:
        >>> width_bins([16, 32, 32]).labels
        ['16', '32']
        >>> width_bins(range(10, 40, 3)).labels
        ['8-15', '16-31', '32-63']
    """
    distinct = sorted(set(widths))
    if len(distinct) <= MAX_EXACT_WIDTHS:
        return WidthBins(tuple(distinct), exact=True)
    first, last = (int(math.floor(math.log2(w))) for w in (distinct[0], distinct[-1]))
    return WidthBins(tuple(float(2**k) for k in range(first, last + 1)), exact=False)


@dataclass(frozen=True)
class DepthWidthRow:
    """One heatmap cell: ``depth`` layers, width column ``width`` (a :class:`WidthBins` label).

    ``n_trials`` counts finished trials (complete, pruned, failed); scores come from the
    ``n_complete`` completed ones. ``median_n_params`` is over the cell's trials whose
    parameter count is known, whatever their state.
    """

    depth: int
    width: str
    n_trials: int
    n_complete: int
    best_value: float | None
    median_value: float | None
    best_trial: int | None
    median_n_params: float | None


DEPTH_WIDTH_COLUMNS = tuple(DepthWidthRow.__dataclass_fields__)


def depth_width_table(study: StudyLike) -> list[DepthWidthRow]:
    """Best and median score and trial counts per (depth, width column), depth then width order.

    Trials whose depth or widths are unknown (for example ``iso_params`` trials without the
    ``widths`` user attribute) are left out.
    """
    data = as_data(study)
    bins, cells = _cells(data)
    rows = []
    for (depth, column), records in sorted(cells.items()):
        best = data.best_of(records)
        rows.append(
            DepthWidthRow(
                depth=depth,
                width=bins.label(column),
                n_trials=len(records),
                n_complete=sum(r.state == TrialState.COMPLETE for r in records),
                best_value=best.value if best else None,
                median_value=median([r.value for r in records if r.scored and r.value is not None]),
                best_trial=best.number if best else None,
                median_n_params=median([r.n_params for r in records if r.n_params is not None]),
            )
        )
    return rows


def depth_width_bins(study: StudyLike) -> WidthBins:
    """The width columns :func:`depth_width_table` uses for this study."""
    return _cells(as_data(study))[0]


def _cells(data: StudyData) -> tuple[WidthBins, dict[tuple[int, int], list[TrialRecord]]]:
    placed = [
        (depth, width, r)
        for r in data.trials
        if r.state in ENDED and (depth := r.depth) is not None and (width := r.width) is not None
    ]
    bins = width_bins(width for _, width, _ in placed)
    cells: dict[tuple[int, int], list[TrialRecord]] = {}
    for depth, width, record in placed:
        cells.setdefault((depth, bins.index(width)), []).append(record)
    return bins, cells


@dataclass(frozen=True)
class DepthRow:
    """One depth's scores: its best trial, median, and the spread of its ``top_n`` best trials.

    ``top_low``/``top_high`` bound the mean of the depth's ``top_n`` best scores (95%
    Student-t interval): what the depth reaches when tuned, across widths and learning
    rates. It is a spread over configurations, not a seed interval. Both are None below
    :data:`~stacksearch.report.stats.MIN_INTERVAL_POINTS` scores; an end past the metric's
    range is moved onto it, flagged in ``top_clipped`` (low, high).
    """

    depth: int
    n_complete: int
    best_value: float | None
    best_trial: int | None
    best_widths: tuple[float, ...] | None
    median_value: float | None
    top_n: int
    top_mean: float | None
    top_low: float | None
    top_high: float | None
    top_clipped: tuple[bool, bool] = (False, False)


def depth_summary(study: StudyLike, top_k: int = 5) -> list[DepthRow]:
    """Per-depth best, median and an interval over the ``top_k`` best scores, by depth.

    Example:
        >>> import optuna
        >>> from optuna.distributions import IntDistribution
        >>> study = optuna.create_study()
        >>> for value in (1.0, 2.0, 3.0):
        ...     study.add_trial(optuna.trial.create_trial(params={"depth": 1}, value=value,
        ...         distributions={"depth": IntDistribution(1, 2)}))
        >>> row = depth_summary(study, top_k=2)[0]
        >>> row.best_value, row.median_value, row.top_mean
        (1.0, 2.0, 1.5)
    """
    data = as_data(study)
    rows = []
    for depth, records in _by_depth(data.scored).items():
        ranked = sorted(records, key=lambda r: (r.score if data.minimize else -r.score, r.number))
        top = [r.score for r in ranked[:top_k]]
        mean, low, high, clipped = shown_interval(top, metric_bounds(data.metric))
        rows.append(
            DepthRow(
                depth=depth,
                n_complete=len(records),
                best_value=ranked[0].value,
                best_trial=ranked[0].number,
                best_widths=ranked[0].widths,
                median_value=median([r.score for r in records]),
                top_n=len(top),
                top_mean=mean,
                top_low=low,
                top_high=high,
                top_clipped=clipped,
            )
        )
    return rows


@dataclass(frozen=True)
class CostRow:
    """Compute spent per depth.

    ``n_pruned`` counts trials the pruner stopped; ``n_rejected`` those refused before
    training (for example over ``max_params``). ``pruned_share`` is
    ``n_pruned / (n_trials - n_rejected)``. Seconds are training seconds.
    """

    depth: int
    n_trials: int
    n_complete: int
    n_pruned: int
    n_rejected: int
    n_failed: int
    pruned_share: float | None
    median_epochs: float | None
    median_seconds: float | None
    total_seconds: float
    median_seconds_per_epoch: float | None
    median_n_params: float | None


def cost_table(study: StudyLike) -> list[CostRow]:
    """Trials, outcomes, epochs and training seconds per depth (finished trials only)."""
    data = as_data(study)
    finished = [r for r in data.trials if r.state in ENDED and r.depth is not None]
    rows = []
    for depth, records in _by_depth(finished).items():
        trained = [r for r in records if not r.rejected]
        pruned = sum(r.state == TrialState.PRUNED for r in trained)
        per_epoch = [r.seconds / r.epochs_trained for r in trained if r.seconds is not None and r.epochs_trained]
        rows.append(
            CostRow(
                depth=depth,
                n_trials=len(records),
                n_complete=sum(r.state == TrialState.COMPLETE for r in records),
                n_pruned=pruned,
                n_rejected=len(records) - len(trained),
                n_failed=sum(r.state == TrialState.FAIL for r in records),
                pruned_share=pruned / len(trained) if trained else None,
                median_epochs=median([r.epochs_trained for r in trained if r.epochs_trained is not None]),
                median_seconds=median([r.seconds for r in trained if r.seconds is not None]),
                total_seconds=sum(r.seconds for r in trained if r.seconds is not None),
                median_seconds_per_epoch=median(per_epoch),
                median_n_params=median([r.n_params for r in records if r.n_params is not None]),
            )
        )
    return rows


@dataclass(frozen=True)
class ReasonRow:
    """Trials that did not complete, grouped by state and reason (``"-"`` when none was given)."""

    state: str
    reason: str
    count: int
    example_trial: int


def unfinished_reasons(study: StudyLike, limit: int = 10) -> list[ReasonRow]:
    """The ``limit`` most frequent (state, reason) pairs of pruned, rejected and failed trials.

    Rejected trials (a ``reject_reason``) show as state ``REJECTED``; pruned trials without
    a reason are the pruner's.
    """
    data = as_data(study)
    counts: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], int] = {}
    for r in data.trials:
        if r.state in (TrialState.PRUNED, TrialState.FAIL):
            key = ("REJECTED" if r.rejected else r.state.name, r.reason or "-")
            counts[key] += 1
            example.setdefault(key, r.number)
    return [ReasonRow(s, reason, n, example[(s, reason)]) for (s, reason), n in counts.most_common(limit)]


@dataclass(frozen=True)
class Headline:
    """The first lines of the report: the best trial beside baseline, reference and counts.

    ``train_seconds`` sums the finished trials' training seconds (rejected trials never
    trained); ``wall_seconds`` spans the first trial's start to the last trial's end.
    """

    study_name: str
    metric: str
    direction: str
    multi_objective: bool
    best: TrialRecord
    baseline: float | None
    reference: dict | None
    benchmark: str | None
    n_complete: int
    n_pruned: int
    n_rejected: int
    n_failed: int
    n_running: int
    train_seconds: float
    wall_seconds: float | None


def headline(study: StudyLike) -> Headline:
    """Best trial (by score; in a multi-objective study the best score on the Pareto front),
    baseline, reference, outcome counts and compute time.

    Raises :class:`~stacksearch.exceptions.NoCompletedTrialError` (a ValueError) when no trial
    completed with a finite score.
    """
    data = as_data(study)
    best = data.best_of(list(data.trials))
    if best is None:
        raise NoCompletedTrialError(f"study {data.study_name!r} has no completed trial")
    states = Counter("REJECTED" if r.rejected else r.state.name for r in data.trials)
    starts = [r.trial.datetime_start for r in data.trials if r.trial.datetime_start]
    ends = [r.trial.datetime_complete for r in data.trials if r.trial.datetime_complete]
    return Headline(
        study_name=data.study_name,
        metric=data.metric,
        direction=data.direction,
        multi_objective=data.multi_objective,
        best=best,
        baseline=data.baseline,
        reference=dict(data.reference) if data.reference else None,
        benchmark=data.benchmark,
        n_complete=states["COMPLETE"],
        n_pruned=states["PRUNED"],
        n_rejected=states["REJECTED"],
        n_failed=states["FAIL"],
        n_running=states["RUNNING"] + states["WAITING"],
        train_seconds=sum(
            r.seconds for r in data.trials if r.seconds is not None and r.state in ENDED and not r.rejected
        ),
        wall_seconds=(max(ends) - min(starts)).total_seconds() if starts and ends else None,
    )


def _by_depth(records: list[TrialRecord]) -> dict[int, list[TrialRecord]]:
    groups: dict[int, list[TrialRecord]] = {}
    known = [(depth, r) for r in records if (depth := r.depth) is not None]
    for depth, record in sorted(known, key=lambda pair: pair[0]):
        groups.setdefault(depth, []).append(record)
    return groups


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
