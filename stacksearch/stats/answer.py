"""The three-way answer to "which depth?": a winner, equivalence, or an honest "cannot tell yet".

Input: for each compared depth, the confirmation scores of its best architecture retrained
with fresh seeds; the score's direction; a practical ``margin`` (absolute, in metric units);
``alpha``. Below, "i beats j by g" means i's mean is better than j's by g in the direction's
sense (lower for ``minimize``), and every test is Welch's (unequal variances, Welch–Satterthwaite
degrees of freedom) on the seeds' scores.

``depth_wins`` (then ``winner`` is the depth)
    Every ordered pair (i, j) of the k compared depths is a hypothesis H0(i, j): "i does not beat
    j by more than the margin", tested one-sided (H1: i beats j by more than the margin). Holm's
    step-down procedure runs over all k(k-1) of them; the depth with the best mean wins when its
    k-1 hypotheses are all rejected (adjusted p < alpha). Any false winner claim rejects a true
    hypothesis of this family, so **P(false winner) <= alpha** for every configuration of true
    means, *whichever depth the data make best*: the selection of the best depth is inside the
    family. (Holm over only the best depth's k-1 tests would not hold: with two equal depths and a
    small margin either one can come out best, and the false-claim rate approaches 2 alpha.)
``equivalent``
    Every *pair* of compared depths is within ±margin by TOST (two one-sided Welch tests,
    Schuirmann 1987; a pair's p-value is the larger of the two). Every pair, not every depth
    against the best: the claim "these depths are equally good, take the cheapest" is symmetric,
    and testing it against a data-chosen best would add a selection effect; the binding pair
    (best against worst) is in both families anyway. The claim is the intersection of the pairs'
    equivalences, so the intersection-union principle applies (Berger 1982; Berger & Hsu 1996):
    each pair is tested at level alpha and no multiplicity adjustment is needed, **P(false
    equivalence) <= alpha** whenever some pair truly differs by the margin or more. The reported
    adjusted p-values of these tests equal their raw ones (times the looks, below).
``inconclusive``
    Neither; ``reason`` says what was seen (the leader's gap to the runner-up with its 1 - alpha
    interval) and ``next_step`` how many seeds per depth would likely settle it: a normal
    approximation with 80% power from the observed spread and gap (conservatively at the
    Bonferroni level alpha / (k(k-1)) for a win), capped at :data:`MAX_SEEDS_ESTIMATE`, stated as an
    estimate. Also inconclusive: a depth with fewer than two usable seeds (it cannot be tested).
``single_depth``
    One depth only: nothing to compare.

Each kind of false call keeps its own rate alpha; the two rejection regions are disjoint (a win
needs a gap above the margin, equivalence one below it), and a false call of either kind can
approach 2 alpha only when the true gaps sit at the margin itself.

Repeated looks (seeds added while the answer is undecided, :mod:`~stacksearch.stats.sequential`):
with at most ``looks`` looks planned in advance, every look tests at alpha / looks (a Bonferroni
split, valid for any stopping rule), shown as adjusted p-values multiplied by ``looks``, so that
"adjusted p < alpha" stays the rule. Non-finite scores (diverged seeds) are dropped and counted.
A spread of exactly zero (deterministic training) is floored at a relative 1e-9 so that every
statistic stays finite: the call then follows the observed gap.

Example:
    >>> a = depth_answer({1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, 0.22]}, "minimize", margin=0.02)
    >>> a.call, a.winner, a.compared_depths
    ('depth_wins', 2, (1, 2))
    >>> a = depth_answer({1: [0.200, 0.201, 0.199], 2: [0.201, 0.200, 0.202]}, "minimize", margin=0.02)
    >>> a.call, a.winner
    ('equivalent', None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stacksearch.stats.margin import Margin, check_alpha, check_looks, check_margin, default_margin
from stacksearch.stats.welch import Welch, half_width, holm, p_above, p_below, seeds_for, summarize, welch

__all__ = [
    "Answer",
    "DepthScores",
    "TestResult",
    "depth_answer",
    "default_margin",
    "Margin",
    "ALPHA",
    "POWER",
    "MAX_SEEDS_ESTIMATE",
    "CALLS",
]

ALPHA = 0.05
POWER = 0.8
MAX_SEEDS_ESTIMATE = 50
CALLS = ("depth_wins", "equivalent", "inconclusive", "single_depth")


@dataclass(frozen=True)
class DepthScores:
    """One depth's usable confirmation scores (finite ones; ``dropped`` counts the others), their
    mean and the 1 - alpha Student-t interval of the mean (None below two seeds).

    Example:
        >>> DepthScores.of(2, [0.2, float("nan"), 0.4], 0.05).seeds, DepthScores.of(2, [0.2], 0.05).low
        (2, None)
    """

    depth: int
    scores: tuple[float, ...]
    dropped: int
    mean: float | None
    low: float | None
    high: float | None

    @property
    def seeds(self) -> int:
        """Seeds with a usable score."""
        return len(self.scores)

    @classmethod
    def of(cls, depth: int, raw: Sequence[float], alpha: float) -> DepthScores:
        """Keep the finite scores of ``raw`` and summarise them."""
        values = tuple(float(v) for v in raw if _finite(v))
        mean = low = high = None
        if values:
            summary = summarize(values)
            mean = summary.mean
        if len(values) >= 2:
            sem = math.sqrt(summary.var / summary.n)
            half = half_width(Welch(summary.mean, sem, summary.n - 1.0, 0.0), 1 - alpha)
            low, high = summary.mean - half, summary.mean + half
        return cls(int(depth), values, len(raw) - len(values), mean, low, high)


@dataclass(frozen=True)
class TestResult:
    """One test: ``name`` is ``"superiority"`` (H0: ``depths[0]`` does not beat ``depths[1]`` by more
    than the margin) or ``"equivalence"`` (TOST, H0: the pair differs by the margin or more).

    ``depths`` is empty for the width tests (:mod:`~stacksearch.stats.width_answer`: ``"deeper"``,
    ``"wider"``, ``"equivalence"``). ``difference`` is how much ``depths[0]`` beats ``depths[1]``
    (negative: it is worse);
    ``statistic`` the t of the (binding) one-sided test; ``adjustment`` says what ``adjusted_p`` accounts for.

    Example:
        >>> a = depth_answer({1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, 0.22]}, "minimize", margin=0.02)
        >>> t = a.tests[0]
        >>> t.name, t.depths, round(t.difference, 3), t.adjusted_p < 0.05, t.adjustment
        ('superiority', (2, 1), 0.1, True, 'Holm over all 2 ordered pairs')
    """

    __test__ = False  # not a pytest test class

    name: str
    depths: tuple[int, ...]
    difference: float
    statistic: float
    p_value: float
    adjusted_p: float
    adjustment: str


@dataclass(frozen=True)
class Answer:
    """The call, its numbers and its sentences (see the module docstring for the rules).

    ``seeds_needed``: the estimated seeds per depth that would settle an inconclusive call (None when
    no number of seeds is expected to, or it is over :data:`MAX_SEEDS_ESTIMATE`); ``looks``: the looks
    the tests were corrected for.

    Example:
        >>> a = depth_answer({3: [0.5, 0.6]}, "minimize", margin=0.01)
        >>> a.call, a.decided, a.reason
        ('single_depth', False, 'Only depth 3 was retrained: there is no other depth to compare it with.')
    """

    call: str
    winner: int | None
    compared_depths: tuple[int, ...]
    margin: float
    alpha: float
    direction: str
    depths: tuple[DepthScores, ...]
    tests: tuple[TestResult, ...]
    reason: str
    next_step: str | None
    seeds_needed: int | None
    looks: int = 1

    @property
    def decided(self) -> bool:
        """True for ``depth_wins`` and ``equivalent``: more seeds would not change the call's claim."""
        return self.call in ("depth_wins", "equivalent")

    def depth(self, depth: int) -> DepthScores:
        """The :class:`DepthScores` of ``depth``."""
        return next(d for d in self.depths if d.depth == depth)


def depth_answer(
    scores: Mapping[int, Sequence[float]],
    direction: str,
    margin: float,
    alpha: float = ALPHA,
    *,
    looks: int = 1,
    metric: str = "",
) -> Answer:
    """The three-way call from each depth's confirmation ``scores`` (see the module docstring).

    ``direction``: ``"minimize"`` or ``"maximize"`` (or an Optuna ``StudyDirection``); ``margin``
    in metric units; ``looks``: the looks of a sequential design (1 for a single look); ``metric``
    names the unit in the sentences.

    Example:
        >>> a = depth_answer({1: [0.80, 0.90, 0.85], 2: [0.86, 0.80, 0.90]}, "maximize", margin=0.01,
        ...                  metric="accuracy")
        >>> a.call, a.seeds_needed, a.next_step.startswith("more than 50 seeds per depth")
        ('inconclusive', None, True)
        >>> a.reason.split(";")[0]
        'Depth 2 leads depth 1 by 0.003333 ± 0.1137 accuracy (95% interval)'
    """
    margin = check_margin(margin)
    alpha = check_alpha(alpha)
    check_looks(looks)
    direction = str(getattr(direction, "name", direction)).lower()
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction {direction!r} is neither 'minimize' nor 'maximize'")
    rows = tuple(DepthScores.of(d, list(scores[d]), alpha) for d in sorted(scores))
    depths = tuple(r.depth for r in rows)
    unit = f" {metric}" if metric else ""

    def make(
        call: str,
        reason: str,
        next_step: str | None = None,
        *,
        winner: int | None = None,
        tests: tuple[TestResult, ...] = (),
        seeds_needed: int | None = None,
    ) -> Answer:
        reason += _dropped_note(rows)
        return Answer(
            call, winner, depths, margin, alpha, direction, rows, tests, reason, next_step, seeds_needed, looks
        )

    if not rows:
        return make("inconclusive", "No depth has confirmation scores.", "retrain each depth's best with fresh seeds")
    if len(rows) == 1:
        return make(
            "single_depth", f"Only depth {depths[0]} was retrained: there is no other depth to compare it with."
        )
    thin = [r for r in rows if r.seeds < 2]
    if thin:
        listed = ", ".join(f"depth {r.depth} ({r.seeds})" for r in thin)
        retrain = ", ".join(f"depth {r.depth} with {2 - r.seeds} more seed{'s' * (r.seeds == 0)}" for r in thin)
        return make(
            "inconclusive",
            f"Too few usable seeds to test: {listed}; every depth needs at least 2.",
            f"retrain {retrain} (each must finish with a finite score)",
            seeds_needed=2,
        )
    sign = 1.0 if direction == "minimize" else -1.0
    bad = {r.depth: summarize([sign * v for v in r.scores]) for r in rows}
    means = [(r.mean, r.depth) for r in rows if r.mean is not None]  # every row: 2 seeds or more here
    best = min(means, key=lambda pair: (sign * pair[0], pair[1]))[1]
    # beats[i, j]: Welch statistics of how much i beats j (j's badness minus i's)
    beats = {(i, j): welch(bad[j], bad[i]) for i in depths for j in depths if i != j}
    superiority = _superiority(beats, best, margin, looks)
    equivalence = _equivalence(beats, depths, margin, looks)
    tests = superiority + equivalence
    if all(t.adjusted_p < alpha for t in superiority):
        closest = max(superiority, key=lambda t: t.adjusted_p)
        reason = (
            f"Depth {best} beats every other compared depth by more than the margin {_num(margin)}{unit}: "
            f"by {_num(closest.difference)} over depth {closest.depths[1]}, the closest "
            f"(adjusted {_p(closest.adjusted_p)}, below alpha {_num(alpha)})."
        )
        return make("depth_wins", reason, winner=best, tests=tests)
    if all(t.adjusted_p < alpha for t in equivalence):
        widest = max(equivalence, key=lambda t: t.adjusted_p)
        reason = (
            f"Depths {_listed(depths)} are equal within ±{_num(margin)}{unit} (TOST on every pair, largest "
            f"adjusted {_p(widest.adjusted_p)}, below alpha {_num(alpha)}): take the cheapest."
        )
        return make("equivalent", reason, tests=tests)
    runner = min((j for j in depths if j != best), key=lambda j: (beats[best, j].difference, j))
    reason = (
        f"Depth {best} {_lead(beats, best, runner, alpha, unit)}; neither a win by more than the margin {_num(margin)} "
        f"nor equivalence within ±{_num(margin)} is shown"
    )
    i, j = max(equivalence, key=lambda t: t.adjusted_p).depths
    if {i, j} != {best, runner}:
        ahead, behind = (i, j) if beats[i, j].difference >= 0 else (j, i)
        reason += f" (the pair farthest from equivalence: depth {ahead} {_lead(beats, ahead, behind, alpha, unit)})"
    reason += "."
    needed, next_step = _settle(beats, depths, best, margin, alpha, looks, min(r.seeds for r in rows))
    return make("inconclusive", reason, next_step, tests=tests, seeds_needed=needed)


def _lead(beats: dict[tuple[int, int], Welch], ahead: int, behind: int, alpha: float, unit: str) -> str:
    """'leads depth 1 by 0.01 ± 0.02 mse (95% interval)'."""
    w = beats[ahead, behind]
    return (
        f"leads depth {behind} by {_num(w.difference)} ± {_num(half_width(w, 1 - alpha))}{unit} "
        f"({_num(100 * (1 - alpha))}% interval)"
    )


def _superiority(beats: dict[tuple[int, int], Welch], best: int, margin: float, looks: int) -> tuple[TestResult, ...]:
    pairs = list(beats)
    raw = {pair: p_above(beats[pair], margin) for pair in pairs}
    adjusted = dict(zip(pairs, holm([raw[pair][1] for pair in pairs])))
    how = f"Holm over all {len(pairs)} ordered pairs" + (f", x {looks} looks" if looks > 1 else "")
    return tuple(
        TestResult(
            "superiority",
            pair,
            beats[pair].difference,
            raw[pair][0],
            raw[pair][1],
            min(1.0, adjusted[pair] * looks),
            how,
        )
        for pair in pairs
        if pair[0] == best
    )


def _equivalence(
    beats: dict[tuple[int, int], Welch], depths: tuple[int, ...], margin: float, looks: int
) -> tuple[TestResult, ...]:
    how = "none (intersection-union test)" + (f"; x {looks} looks" if looks > 1 else "")
    tests = []
    for i, j in ((i, j) for i in depths for j in depths if i < j):
        w = beats[i, j]
        lower, upper = p_above(w, -margin), p_below(w, margin)
        t, p = max(lower, upper, key=lambda tp: tp[1])
        tests.append(TestResult("equivalence", (i, j), w.difference, t, p, min(1.0, p * looks), how))
    return tuple(tests)


def _settle(
    beats: dict[tuple[int, int], Welch],
    depths: tuple[int, ...],
    best: int,
    margin: float,
    alpha: float,
    looks: int,
    have: int,
) -> tuple[int | None, str]:
    """Seeds per depth that would likely settle an inconclusive call, and the sentence saying so."""
    k = len(depths)
    others = [j for j in depths if j != best]
    pairs = [(i, j) for i in depths for j in depths if i < j]
    how = f"estimate: {POWER:.0%} power, normal approximation, from the observed spread"
    if all(beats[best, j].difference > margin for j in others):
        level = alpha / (looks * k * (k - 1))
        need = max(seeds_for(beats[best, j].difference - margin, beats[best, j].var_sum, level, POWER) for j in others)
        claim = f"depth {best} beating every other depth by more than the margin"
    elif all(abs(beats[pair].difference) < margin for pair in pairs):
        level = alpha / looks
        power = 1 - (1 - POWER) / 2  # TOST: both sides must reject
        need = max(seeds_for(margin - abs(beats[pair].difference), beats[pair].var_sum, level, power) for pair in pairs)
        claim = f"depths {_listed(depths)} equivalent within ±{_num(margin)}"
    else:
        near = [j for j in others if beats[best, j].difference <= margin]
        if len(near) < len(others):
            far, close = [j for j in others if j not in near], _depths((best, *near))
            return None, (
                f"more seeds are not expected to settle it: {close} look within the margin of each other "
                f"while {_depths(far)} look{'s' * (len(far) == 1)} worse; compare {close} alone"
            )
        return None, "more seeds are not expected to settle it: the observed gap sits at the margin itself"
    if need > MAX_SEEDS_ESTIMATE:
        return None, f"more than {MAX_SEEDS_ESTIMATE} seeds per depth would be needed to show {claim} ({how})"
    total = max(math.ceil(need), have + 1)
    return total, f"about {total} seeds per depth ({total - have} more) would likely show {claim} ({how})"


def _dropped_note(rows: tuple[DepthScores, ...]) -> str:
    lost = [r for r in rows if r.dropped]
    if not lost:
        return ""
    listed = ", ".join(f"depth {r.depth}: {r.dropped}" for r in lost)
    return f" Non-finite scores (diverged or failed seeds) were dropped: {listed}."


def _finite(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _listed(depths: Sequence[int]) -> str:
    return ", ".join(str(d) for d in depths)


def _depths(depths: Sequence[int]) -> str:
    return f"depth {depths[0]}" if len(depths) == 1 else f"depths {_listed(sorted(depths))}"


def _num(value: float) -> str:
    return f"{value:.4g}"


def _p(value: float) -> str:
    return f"p = {value:.2g}" if value >= 1e-4 else "p < 0.0001"
