"""Statistics of the confirmation step: the best architectures retrained with several seeds.

The confirm command stores the study user attribute ``confirmation``::

    {"seeds": S, "results": [{"depth": d, "widths": [...], "trial": n,
                              "values": [v_seed1, ...]}, ...]}

and, where test data exists, optionally ``"test_values"`` beside ``"values"`` (the same seeds'
test scores). A seed's value may be a list (a multi-objective study): its first objective is used.
:func:`confirmation_summary` gives each result's mean and 95% Student-t interval, and a plain
Welch t-test (against zero difference) between the best depth and every other depth (each depth
represented by its result with the best mean). The report's call does not come from these tests
but from :func:`stacksearch.stats.answer.depth_answer` (a margin, Holm over every pair, TOST).

Example:
    >>> summary = confirmation_summary(
    ...     {"seeds": 3, "results": [
    ...         {"depth": 1, "widths": [64], "trial": 4, "values": [0.30, 0.32, 0.31]},
    ...         {"depth": 2, "widths": [32, 32], "trial": 9, "values": [0.20, 0.21, 0.22]}]},
    ...     "minimize")
    >>> summary.best_depth, summary.tests[0].other_depth, summary.tests[0].p_value < 0.05
    (2, 1, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.study import StudyDirection

from stacksearch.metrics import metric_bounds
from stacksearch.report.stats import shown_interval

__all__ = ["ConfirmRow", "WelchTest", "ConfirmationSummary", "confirmation_summary", "ALPHA"]

ALPHA = 0.05


@dataclass(frozen=True)
class ConfirmRow:
    """One retrained architecture: its seeds' scores, mean and 95% interval.

    The interval is None below :data:`~stacksearch.report.stats.MIN_INTERVAL_POINTS` seeds; an
    end past the metric's range is moved onto it, flagged in ``clipped`` (low, high).
    ``n_failed`` counts seeds whose score was missing or not finite; ``test_values`` are the
    finite test scores of the same seeds, when the confirmation stored them.
    """

    depth: int
    widths: tuple[float, ...]
    trial: int | None
    values: tuple[float, ...]
    n_failed: int
    mean: float | None
    low: float | None
    high: float | None
    clipped: tuple[bool, bool] = (False, False)
    test_values: tuple[float, ...] = ()

    @property
    def test_mean(self) -> float | None:
        """Mean of :attr:`test_values`, or None when none was stored."""
        return sum(self.test_values) / len(self.test_values) if self.test_values else None


@dataclass(frozen=True)
class WelchTest:
    """Welch's t-test of the best depth against ``other_depth``; ``p_value`` is None when it
    cannot be computed (fewer than two seeds a side, or every seed equal on both sides)."""

    best_depth: int
    other_depth: int
    difference: float
    statistic: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        """True when the difference is significant at :data:`ALPHA`."""
        return self.p_value is not None and self.p_value < ALPHA


@dataclass(frozen=True)
class ConfirmationSummary:
    """All retrained results, the best depth by mean, and its tests against the other depths."""

    seeds: int
    rows: tuple[ConfirmRow, ...]
    best_depth: int | None
    tests: tuple[WelchTest, ...]

    @property
    def confirmed(self) -> bool:
        """True when the best depth beats every other retrained depth significantly."""
        return bool(self.tests) and all(t.significant for t in self.tests)


def confirmation_summary(
    confirmation: Mapping[str, Any], direction: str | StudyDirection, metric: str | None = None
) -> ConfirmationSummary:
    """Per-result mean and 95% t-interval; Welch tests of the best depth against the others.

    ``direction`` is the score's: ``"minimize"``/``"maximize"`` or a ``StudyDirection``;
    ``metric`` its name, whose range bounds the intervals (none when None or unknown).
    """
    minimize = direction in ("minimize", StudyDirection.MINIMIZE)
    bounds = metric_bounds(metric) if metric else (None, None)
    results = [
        (depth, r)
        for r in confirmation.get("results", ())
        if isinstance(r, Mapping) and (depth := _depth(r)) is not None
    ]
    rows = tuple(_row(result, depth, bounds) for depth, result in results)
    sign = 1.0 if minimize else -1.0
    representative: dict[int, ConfirmRow] = {}
    for row in (r for r in rows if r.mean is not None):
        current = representative.get(row.depth)
        if current is None or sign * _mean(row) < sign * _mean(current):
            representative[row.depth] = row
    if not representative:
        return ConfirmationSummary(int(confirmation.get("seeds", 0)), rows, None, ())
    best = min(representative.values(), key=lambda r: (sign * _mean(r), r.depth))
    tests = tuple(_welch(best, other) for depth, other in sorted(representative.items()) if depth != best.depth)
    return ConfirmationSummary(int(confirmation.get("seeds", 0)), rows, best.depth, tests)


def _row(result: Mapping[str, Any], depth: int, bounds: tuple[float | None, float | None]) -> ConfirmRow:
    raw = list(result.get("values", ()))
    values = _finite_values(raw)
    mean, low, high, clipped = shown_interval(values, bounds)
    return ConfirmRow(
        depth=depth,
        widths=tuple(result.get("widths", ())),
        trial=result.get("trial"),
        values=values,
        n_failed=len(raw) - len(values),
        mean=mean,
        low=low,
        high=high,
        clipped=clipped,
        test_values=_finite_values(result.get("test_values") or ()),
    )


def _depth(result: Mapping[str, Any]) -> int | None:
    depth = result.get("depth")
    return int(depth) if isinstance(depth, (int, float)) and not isinstance(depth, bool) else None


def _finite_values(raw: Any) -> tuple[float, ...]:
    """The finite scores of ``raw``, a seed's list of objectives giving its first."""
    if not isinstance(raw, (list, tuple)):
        return ()
    firsts = (v[0] if isinstance(v, (list, tuple)) and v else v for v in raw)
    return tuple(
        float(v) for v in firsts if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    )


def _mean(row: ConfirmRow) -> float:
    """The mean of a row known to have one (a finite seed score or more)."""
    assert row.mean is not None, "only rows with a mean are compared"
    return row.mean


def _welch(best: ConfirmRow, other: ConfirmRow) -> WelchTest:
    difference = _mean(best) - _mean(other)
    constant = len(set(best.values)) == 1 and len(set(other.values)) == 1
    if len(best.values) < 2 or len(other.values) < 2 or constant:
        return WelchTest(best.depth, other.depth, difference, None, None)
    from scipy import stats  # scipy.stats takes seconds to import: only when a test runs

    result = stats.ttest_ind(best.values, other.values, equal_var=False)
    statistic, p_value = float(result.statistic), float(result.pvalue)
    if not math.isfinite(p_value):
        return WelchTest(best.depth, other.depth, difference, None, None)
    return WelchTest(best.depth, other.depth, difference, statistic, p_value)
