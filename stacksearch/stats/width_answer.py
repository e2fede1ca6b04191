"""The three-way answer to "at matched parameter counts, does deeper beat wider?".

Input: one pair of scores per iso-parameter band (:func:`~stacksearch.report.iso.param_band`)
that holds two depths, ``(deeper, shallower)``, e.g. the best trial of the band's deepest and of its
shallowest depth. Each band gives one *improvement* of deeper over wider, in metric units and in
the direction's sense (positive: the deeper stack scores better at the same size). The test is
Student's one-sample t over the bands' improvements:

``deeper_wins`` / ``wider_wins``
    H0: mean improvement <= margin (deeper) and H0: mean improvement >= -margin (wider), one-sided,
    Holm-adjusted over the two, so P(false "deeper" or "wider") <= alpha whichever direction the data
    point to (as for depths: the direction is chosen inside the tested family).
``equivalent``
    TOST: the mean improvement is within ±margin at level alpha (an intersection-union test).
``inconclusive``
    Neither, or fewer than two bands (nothing to estimate a spread from); ``no_bands`` when no band
    holds two depths.

Why a t-test and not a sign or Wilcoxon signed-rank test: a study has a handful of bands, and the
smallest one-sided p-value an exact rank test can reach is ``2**-n`` (1/32 with five bands), above
alpha / 2 below six bands, so it could never call; the t-test has power with two bands and its
assumption (roughly normal band improvements) is the price. Bands are not independent replicates
(one study, one sampler; each score is one trial, with its seed noise and the selection of the
band's best), so the width answer is weaker evidence than the retrained depth answer; the reason
says how many bands it rests on. Repeated looks multiply the adjusted p-values by ``looks``.

Example:
    >>> w = width_answer([(0.20, 0.30), (0.22, 0.31), (0.21, 0.33)], "minimize", margin=0.01)
    >>> w.call, w.bands
    ('deeper_wins', 3)
    >>> width_answer([], "minimize", margin=0.01).call
    'no_bands'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stacksearch.stats.answer import ALPHA, MAX_SEEDS_ESTIMATE, POWER, TestResult
from stacksearch.stats.margin import check_alpha, check_looks, check_margin
from stacksearch.stats.welch import Welch, half_width, holm, one_sample, p_above, p_below, seeds_for

__all__ = ["WidthAnswer", "width_answer", "WIDTH_CALLS"]

WIDTH_CALLS = ("deeper_wins", "wider_wins", "equivalent", "inconclusive", "no_bands")


@dataclass(frozen=True)
class WidthAnswer:
    """The width call: ``improvements`` (deeper over shallower, per usable band), their ``mean`` and
    1 - alpha interval (None below two bands), the tests, a one-sentence ``reason`` and ``next_step``.

    Example:
        >>> w = width_answer([(0.5, 0.5)], "minimize", margin=0.01)
        >>> w.call, w.next_step
        ('inconclusive', 'search a space whose iso-parameter bands hold two depths more often (at least 2 bands)')
    """

    call: str
    margin: float
    alpha: float
    improvements: tuple[float, ...]
    dropped: int
    mean: float | None
    low: float | None
    high: float | None
    tests: tuple[TestResult, ...]
    reason: str
    next_step: str | None
    looks: int = 1

    @property
    def bands(self) -> int:
        """Bands with two finite scores."""
        return len(self.improvements)


def width_answer(
    pairs: Sequence[tuple[float, float]],
    direction: str,
    margin: float,
    alpha: float = ALPHA,
    *,
    looks: int = 1,
    metric: str = "",
) -> WidthAnswer:
    """The three-way width call from per-band ``(deeper, shallower)`` score pairs (see the module docstring).

    Example:
        >>> w = width_answer([(0.90, 0.70), (0.88, 0.71), (0.91, 0.72)], "maximize", margin=0.01)
        >>> w.call, [round(x, 2) for x in w.improvements]
        ('deeper_wins', [0.2, 0.17, 0.19])
    """
    margin, alpha = check_margin(margin), check_alpha(alpha)
    check_looks(looks)
    sign = 1.0 if str(getattr(direction, "name", direction)).lower() == "minimize" else -1.0
    usable = [(float(d), float(s)) for d, s in pairs if math.isfinite(d) and math.isfinite(s)]
    improvements = tuple(sign * (s - d) for d, s in usable)
    dropped = len(pairs) - len(improvements)
    unit = f" {metric}" if metric else ""

    def make(
        call: str,
        reason: str,
        next_step: str | None = None,
        *,
        w: Welch | None = None,
        tests: tuple[TestResult, ...] = (),
    ) -> WidthAnswer:
        mean = low = high = None
        if w is not None:
            half = half_width(w, 1 - alpha)
            mean, low, high = w.difference, w.difference - half, w.difference + half
        elif improvements:
            mean = improvements[0]
        return WidthAnswer(call, margin, alpha, improvements, dropped, mean, low, high, tests, reason, next_step, looks)

    if not improvements:
        return make(
            "no_bands", "No iso-parameter band holds two depths: deeper and wider cannot be compared at matched size."
        )
    if len(improvements) < 2:
        return make(
            "inconclusive",
            f"Only one iso-parameter band holds two depths (deeper by {improvements[0]:.4g}{unit}): "
            "one band gives no spread to test against.",
            "search a space whose iso-parameter bands hold two depths more often (at least 2 bands)",
        )
    w = one_sample(improvements)
    (t_deep, p_deep), (t_wide, p_wide) = p_above(w, margin), p_below(w, -margin)
    adj_deep, adj_wide = (min(1.0, p * looks) for p in holm([p_deep, p_wide]))
    t_eq, p_eq = max(p_above(w, -margin), p_below(w, margin), key=lambda tp: tp[1])
    adj_eq = min(1.0, p_eq * looks)
    looked = f", x {looks} looks" if looks > 1 else ""
    tests = (
        TestResult("deeper", (), w.difference, t_deep, p_deep, adj_deep, "Holm over deeper and wider" + looked),
        TestResult("wider", (), -w.difference, -t_wide, p_wide, adj_wide, "Holm over deeper and wider" + looked),
        TestResult("equivalence", (), w.difference, t_eq, p_eq, adj_eq, "none (TOST)" + looked),
    )
    seen = (
        f"over {len(improvements)} iso-parameter bands the deeper stack scores better by {w.difference:.4g} "
        f"± {half_width(w, 1 - alpha):.4g}{unit} ({100 * (1 - alpha):.4g}% interval)"
    )
    if adj_deep < alpha:
        return make("deeper_wins", f"Deeper beats wider at matched size: {seen}.", w=w, tests=tests)
    if adj_wide < alpha:
        return make("wider_wins", f"Wider beats deeper at matched size: {seen}.", w=w, tests=tests)
    if adj_eq < alpha:
        reason = f"Deeper and wider are equal within ±{margin:.4g}{unit} at matched size: {seen}."
        return make("equivalent", reason, w=w, tests=tests)
    reason = f"Neither deeper nor wider wins by more than the margin, nor are they shown equal: {seen}."
    return make("inconclusive", reason, _more_bands(w, margin, alpha, looks), w=w, tests=tests)


def _more_bands(w: Welch, margin: float, alpha: float, looks: int) -> str:
    gap = abs(w.difference) - margin
    if gap > 0:
        need, claim = seeds_for(gap, w.var_sum, alpha / (2 * looks), POWER), "a winner beyond the margin"
    else:
        need = seeds_for(margin - abs(w.difference), w.var_sum, alpha / looks, 1 - (1 - POWER) / 2)
        claim = "equivalence"
    if not math.isfinite(need):
        return "more bands are not expected to settle it: the observed difference sits at the margin itself"
    if need > MAX_SEEDS_ESTIMATE:
        return f"more than {MAX_SEEDS_ESTIMATE} iso-parameter bands would be needed to show {claim} (estimate)"
    n = max(math.ceil(need), int(round(w.df)) + 2)
    return f"about {n} iso-parameter bands holding two depths would likely show {claim} (estimate from the spread seen)"
