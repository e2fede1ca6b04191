"""Adding seeds while the answer is undecided, without spending the error rate twice.

The design: before the first look, fix the seed counts of at most ``looks`` looks, evenly spaced
from ``initial`` to ``max_seeds`` seeds per depth (:attr:`SequentialDesign.schedule`). At each look,
call :func:`~stacksearch.stats.answer.depth_answer` with ``looks=design.looks``: every look then
tests at alpha / looks (a Bonferroni split of alpha over the looks), and by the union bound the
chance of a false winner (or a false equivalence) at *any* look stays <= alpha, whatever the
stopping rule. Stop at the first ``depth_wins`` or ``equivalent``; also stop (futility) when the
answer's power estimate says more seeds than ``max_seeds`` would be needed, or that no number
would do: stopping early for futility never raises the error rate. Otherwise retrain each depth up
to the next scheduled count (:meth:`SequentialDesign.next_seeds`). The seed counts are fixed in
advance so that each look is a fixed-size test; seeds that fail (non-finite scores) are not
replaced beyond the schedule. Bonferroni is simple and valid, not the most powerful: group-
sequential boundaries (O'Brien–Fleming, Pocock) spend alpha less bluntly but need the looks'
correlation, which Welch's unequal variances make awkward.

Example:
    >>> design = SequentialDesign(initial=3, max_seeds=9, max_looks=3)
    >>> design.schedule, round(design.alpha_per_look, 4)
    ((3, 6, 9), 0.0167)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacksearch.exceptions import ConfigError
from stacksearch.stats.answer import ALPHA, Answer
from stacksearch.stats.margin import check_alpha

__all__ = ["SequentialDesign", "more_seeds_needed", "look_alpha", "design_for", "looks_for", "DEFAULT_LOOKS"]

DEFAULT_LOOKS = 3


def look_alpha(alpha: float, looks: int) -> float:
    """The level each of ``looks`` looks tests at: ``alpha / looks`` (Bonferroni).

    Example:
        >>> look_alpha(0.05, 2)
        0.025
    """
    return check_alpha(alpha) / _whole("looks", looks, 1)


def _whole(name: str, value: int, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"confirm.{name}: {value!r} must be a whole number >= {least}")
    return value


@dataclass(frozen=True)
class SequentialDesign:
    """At most ``max_looks`` looks from ``initial`` to ``max_seeds`` seeds per depth, each at alpha / looks.

    Example:
        >>> SequentialDesign(initial=3, max_seeds=3).schedule  # no room to add seeds: one look
        (3,)
    """

    initial: int = 3
    max_seeds: int = 9
    max_looks: int = DEFAULT_LOOKS
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        _whole("seeds", self.initial, 2)
        _whole("max_seeds", self.max_seeds, 1)
        _whole("looks", self.max_looks, 1)
        check_alpha(self.alpha)
        if self.max_seeds < self.initial:
            raise ConfigError(
                f"confirm.max_seeds: {self.max_seeds} is below confirm.seeds ({self.initial}); raise it or drop it"
            )

    @property
    def schedule(self) -> tuple[int, ...]:
        """Seeds per depth at each look: ``max_looks`` counts from ``initial`` to ``max_seeds``, rounded down."""
        span, steps = self.max_seeds - self.initial, self.max_looks - 1
        if steps == 0 or span == 0:
            return (self.initial,)
        points = sorted({self.initial + span * i // steps for i in range(steps + 1)})
        return tuple(points)

    @property
    def looks(self) -> int:
        """The looks actually planned (fewer than asked when the span holds fewer seed counts)."""
        return len(self.schedule)

    @property
    def alpha_per_look(self) -> float:
        """The level every look tests at: pass ``looks=design.looks`` to ``depth_answer``."""
        return self.alpha / self.looks

    def next_seeds(self, answer: Answer) -> dict[int, int]:
        """Seeds to add to each depth before the next look; empty: stop (decided, futile, or the schedule is done).

        Example:
            >>> from stacksearch.stats.answer import depth_answer
            >>> design = SequentialDesign(initial=3, max_seeds=9, max_looks=3)
            >>> a = depth_answer({1: [0.30, 0.32, 0.34], 2: [0.25, 0.27, 0.29]}, "minimize", 0.01, looks=3)
            >>> a.call, a.seeds_needed, design.next_seeds(a)
            ('inconclusive', 6, {1: 3, 2: 3})
        """
        if answer.looks != self.looks:
            raise ValueError(
                f"the answer was tested for {answer.looks} look(s) but the design plans {self.looks}: "
                f"call depth_answer(..., looks={self.looks})"
            )
        if answer.call != "inconclusive" or answer.seeds_needed is None or answer.seeds_needed > self.max_seeds:
            return {}
        have = max(d.seeds + d.dropped for d in answer.depths)
        target = next((n for n in self.schedule if n > have), None)
        if target is None:
            return {}
        return {d.depth: target - (d.seeds + d.dropped) for d in answer.depths}


def more_seeds_needed(
    answer: Answer, max_seeds: int, *, initial: int = 3, looks: int = DEFAULT_LOOKS
) -> dict[int, int]:
    """Seeds to add per depth before the next look of :class:`SequentialDesign` (empty: stop).

    Example:
        >>> from stacksearch.stats.answer import depth_answer
        >>> a = depth_answer({1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, 0.22]}, "minimize", 0.02, looks=3)
        >>> a.call, more_seeds_needed(a, max_seeds=9)
        ('depth_wins', {})
    """
    return SequentialDesign(initial, max_seeds, looks, answer.alpha).next_seeds(answer)


def design_for(confirm: Mapping[str, Any] | None) -> SequentialDesign | None:
    """The sequential design that a study's ``confirm`` settings plan, or None for a single look.

    ``confirm`` is the study user attribute (``seeds``, ``max_seeds``, optionally ``looks`` and
    ``alpha``): seeds are added only when ``max_seeds`` exceeds ``seeds``; ``looks`` defaults to
    :data:`DEFAULT_LOOKS`. The run that adds seeds and the report that reads them both use this,
    so the report tests at the level the run spent.

    Example:
        >>> design_for({"top": 3, "seeds": 3, "max_seeds": 6}).schedule
        (3, 4, 6)
        >>> design_for({"top": 3, "seeds": 3}) is None, design_for(None) is None
        (True, True)
    """
    if not confirm or confirm.get("max_seeds") is None:
        return None
    initial = _whole("seeds", confirm.get("seeds", 3), 2)
    max_seeds = _whole("max_seeds", confirm["max_seeds"], 1)
    if max_seeds <= initial:
        return None
    alpha = confirm.get("alpha")
    return SequentialDesign(
        initial,
        max_seeds,
        confirm.get("looks", DEFAULT_LOOKS),
        ALPHA if alpha is None else check_alpha(alpha, "confirm.alpha"),
    )


def looks_for(confirm: Mapping[str, Any] | None) -> int:
    """The looks to correct the confirmation's tests for: those of :func:`design_for`, else 1.

    Example:
        >>> looks_for({"seeds": 3, "max_seeds": 9}), looks_for({"seeds": 3})
        (3, 1)
    """
    design = design_for(confirm)
    return 1 if design is None else design.looks
