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

__all__ = ["median", "t_interval"]


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
