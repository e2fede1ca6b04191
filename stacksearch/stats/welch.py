"""Welch tests against a margin, Holm's adjustment and a normal-approximation seed count.

The building blocks of :mod:`stacksearch.stats.answer` (scipy.special only: ``scipy.stats``
takes seconds to import). A difference is tested against a bound, not against zero, so the
same functions serve superiority ("better by more than the margin") and equivalence
("within the margin", two one-sided tests).

Example:
    >>> w = welch([0.30, 0.32, 0.31], [0.20, 0.21, 0.22])
    >>> round(w.difference, 3), round(w.se, 4), round(w.df, 1)
    (0.1, 0.0082, 4.0)
    >>> t, p = p_above(w, 0.05)
    >>> round(t, 2), p < 0.01
    (6.12, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import ndtri, stdtr, stdtrit

__all__ = [
    "Welch",
    "Summary",
    "summarize",
    "welch",
    "one_sample",
    "p_above",
    "p_below",
    "holm",
    "half_width",
    "seeds_for",
    "SD_FLOOR",
]

SD_FLOOR = 1e-9
"""Seed spreads are floored at ``SD_FLOOR`` times the scores' scale, so that identical seeds
(deterministic training) give finite statistics: the test then follows the observed gap."""


@dataclass(frozen=True)
class Welch:
    """A difference of means (or one mean), its standard error and Welch–Satterthwaite degrees of freedom.

    ``var_sum`` is the sum of the per-seed variances (floored), what a seed count needs.

    Example:
        >>> Welch(difference=0.1, se=0.02, df=4.0, var_sum=0.0012).difference / 0.02
        5.0
    """

    difference: float
    se: float
    df: float
    var_sum: float


@dataclass(frozen=True)
class Summary:
    """``n`` values, their mean and sample variance (``ddof=1``; 0 for one value).

    Example:
        >>> summarize([1.0, 2.0, 3.0])
        Summary(n=3, mean=2.0, var=1.0)
    """

    n: int
    mean: float
    var: float


def summarize(values: Sequence[float] | Summary) -> Summary:
    """The :class:`Summary` of ``values`` (pure Python: faster than numpy on a few seeds).

    Example:
        >>> summarize([0.2, 0.2]).var
        0.0
    """
    if isinstance(values, Summary):
        return values
    x = [float(v) for v in values]
    if not x:
        raise ValueError("no values to summarise")
    if all(v == x[0] for v in x):
        return Summary(len(x), x[0], 0.0)
    mean = math.fsum(x) / len(x)
    var = math.fsum((v - mean) ** 2 for v in x) / (len(x) - 1) if len(x) > 1 else 0.0
    return Summary(len(x), mean, var)


def _floored(var: float, scale: float) -> float:
    return max(var, (SD_FLOOR * max(scale, SD_FLOOR)) ** 2)


def welch(a: Sequence[float] | Summary, b: Sequence[float] | Summary) -> Welch:
    """Welch's statistics for ``mean(a) - mean(b)``; both need at least two values.

    Example:
        >>> w = welch([1.0, 1.0], [1.0, 1.0])
        >>> w.difference, w.se > 0, math.isfinite(w.df)
        (0.0, True, True)
    """
    x, y = summarize(a), summarize(b)
    if x.n < 2 or y.n < 2:
        raise ValueError("Welch's test needs at least two values a side")
    scale = max(abs(x.mean), abs(y.mean))
    vx, vy = _floored(x.var, scale) / x.n, _floored(y.var, scale) / y.n
    se2 = vx + vy
    df = se2**2 / (vx**2 / (x.n - 1) + vy**2 / (y.n - 1))
    return Welch(x.mean - y.mean, math.sqrt(se2), df, vx * x.n + vy * y.n)


def one_sample(values: Sequence[float]) -> Welch:
    """The mean of ``values`` with its standard error (Student, ``n - 1`` degrees of freedom).

    Example:
        >>> w = one_sample([0.1, 0.2, 0.3])
        >>> round(w.difference, 3), round(w.se, 4), w.df
        (0.2, 0.0577, 2.0)
    """
    x = summarize(values)
    if x.n < 2:
        raise ValueError("a one-sample test needs at least two values")
    var = _floored(x.var, abs(x.mean))
    return Welch(x.mean, math.sqrt(var / x.n), float(x.n - 1), var)


def p_above(w: Welch, bound: float) -> tuple[float, float]:
    """``(t, p)`` of the one-sided test of H0: difference <= ``bound`` against H1: difference > ``bound``.

    Example:
        >>> round(p_above(Welch(0.0, 1.0, 10.0, 2.0), 0.0)[1], 3)
        0.5
    """
    t = (w.difference - bound) / w.se
    return float(t), float(stdtr(w.df, -t))


def p_below(w: Welch, bound: float) -> tuple[float, float]:
    """``(t, p)`` of the one-sided test of H0: difference >= ``bound`` against H1: difference < ``bound``.

    Example:
        >>> p_below(Welch(0.0, 1.0, 10.0, 2.0), 5.0)[1] < 0.001
        True
    """
    t = (w.difference - bound) / w.se
    return float(t), float(stdtr(w.df, t))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values, in the input's order (family-wise error rate).

    Example:
        >>> holm([0.01, 0.04, 0.03])
        [0.03, 0.06, 0.06]
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = round(running, 15)
    return adjusted


def half_width(w: Welch, level: float = 0.95) -> float:
    """Half the width of the two-sided Student-t confidence interval of ``w.difference``.

    Example:
        >>> round(half_width(Welch(0.0, 1.0, 1e9, 2.0)), 2)
        1.96
    """
    return float(stdtrit(w.df, 0.5 + level / 2)) * w.se


def seeds_for(gap: float, var_sum: float, level: float, power: float = 0.8) -> float:
    """Seeds per depth for a one-sided test at ``level`` to reject with ``power`` when the true
    distance from the bound is ``gap`` (normal approximation: ``(z_level + z_power)^2 var_sum / gap^2``).

    ``inf`` when ``gap <= 0``: no number of seeds is expected to reject.

    Example:
        >>> math.ceil(seeds_for(0.01, 2 * 0.01**2, 0.05))
        13
    """
    if gap <= 0:
        return math.inf
    z = float(ndtri(1 - level)) + float(ndtri(power))
    return z * z * var_sum / (gap * gap)
