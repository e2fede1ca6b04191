"""Small statistics shared by the tables: medians and Student-t intervals.

Example:
    >>> [round(x, 3) for x in t_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484, 4.484]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import stdtrit

__all__ = ["median", "t_interval", "shown_interval", "MIN_INTERVAL_POINTS"]

MIN_INTERVAL_POINTS = 3  # docs/report.md: from two points the interval is ~9 times their spread


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (mean of the middle two for even counts); None when empty."""
    return float(np.median(values)) if len(values) else None


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float] | None:
    """``(mean, low, high)``: the Student-t confidence interval of the mean of ``values``.

    None with fewer than two values; a zero-width interval when they are all equal.
    """
    if len(values) < 2:
        return None
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    sem = float(array.std(ddof=1)) / math.sqrt(len(array))
    half = float(stdtrit(len(array) - 1, 0.5 + level / 2)) * sem
    return mean, mean - half, mean + half


def shown_interval(
    values: Sequence[float],
    bounds: tuple[float | None, float | None] = (None, None),
    level: float = 0.95,
    min_points: int = MIN_INTERVAL_POINTS,
) -> tuple[float | None, float | None, float | None, tuple[bool, bool]]:
    """``(mean, low, high, clipped)``: the interval the report shows for ``values``.

    ``low`` and ``high`` are None below ``min_points`` values (the mean is still given; None
    when there are no values). An end past ``bounds`` (the metric's range, e.g. ``(0, None)``
    for an MSE) is moved onto it and flagged in ``clipped`` (low, high): the true mean of a
    metric cannot lie there.

    Example:
        >>> shown_interval([0.1, 0.3])
        (0.2, None, None, (False, False))
        >>> mean, low, high, clipped = shown_interval([0.01, 0.02, 0.6], bounds=(0.0, None))
        >>> low, round(high, 3), clipped
        (0.0, 1.049, (True, False))
    """
    if not len(values):
        return None, None, None, (False, False)
    mean = float(np.mean(np.asarray(values, dtype=float)))
    interval = t_interval(values, level) if len(values) >= min_points else None
    if interval is None:
        return mean, None, None, (False, False)
    lower, upper = bounds
    low, high = interval[1], interval[2]
    clipped = (lower is not None and low < lower, upper is not None and high > upper)
    return mean, lower if clipped[0] else low, upper if clipped[1] else high, clipped
