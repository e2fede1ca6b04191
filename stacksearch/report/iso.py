"""Matched parameter counts: the best score per depth within parameter bands, and Pareto fronts.

The direct test of Graves et al. (2013): at the same number of weights, does the deeper
stack score better? Bands are ``[factor**k, factor**(k+1))`` parameters (factor 2 by default),
so two architectures compared in a band differ in size by less than the factor.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> for depth, n_params, value in [(1, 5000, 0.3), (2, 6000, 0.2), (1, 40000, 0.1)]:
    ...     study.add_trial(optuna.trial.create_trial(
    ...         params={"depth": depth}, value=value, user_attrs={"n_params": n_params},
    ...         distributions={"depth": IntDistribution(1, 2)}))
    >>> [(w.params_low, w.params_high, w.depth, w.runner_up_depth) for w in band_winners(study)]
    [(4096, 8192, 2, 1)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stacksearch.report.stats import median
from stacksearch.report.trials import StudyData, StudyLike, TrialRecord, as_data

__all__ = [
    "param_band",
    "IsoBandRow",
    "iso_param_table",
    "BandWinner",
    "band_winners",
    "ParetoPoint",
    "pareto_front",
    "pareto_fronts",
]


def param_band(n_params: int, factor: float = 2.0) -> tuple[int, int]:
    """The band ``(low, high)`` holding ``n_params``: ``low = factor**k <= n_params < high``.

    Example:
        >>> param_band(12833)
        (8192, 16384)
    """
    k = math.floor(math.log(n_params) / math.log(factor) + 1e-9)
    return round(factor**k), round(factor ** (k + 1))


@dataclass(frozen=True)
class IsoBandRow:
    """One depth inside one parameter band; ``winner`` marks the band's best depth when the
    band holds at least two depths and no tie for first."""

    params_low: int
    params_high: int
    depth: int
    n_complete: int
    best_value: float
    median_value: float
    best_trial: int
    best_widths: tuple[float, ...] | None
    winner: bool


def iso_param_table(study: StudyLike, factor: float = 2.0) -> list[IsoBandRow]:
    """Best and median score per depth within each parameter band, by band then depth.

    Uses completed trials whose depth and parameter count are known.
    """
    data = as_data(study)
    rows = []
    for band, by_depth in sorted(_bands(data, factor).items()):
        bests = {d: data.best_of(records) for d, records in by_depth.items()}
        winner = _winner(data, bests)
        for depth, records in sorted(by_depth.items()):
            best = bests[depth]
            middle = median([r.score for r in records])
            assert best is not None and middle is not None, "every depth of a band holds a scored trial"
            rows.append(
                IsoBandRow(
                    params_low=band[0],
                    params_high=band[1],
                    depth=depth,
                    n_complete=len(records),
                    best_value=best.score,
                    median_value=middle,
                    best_trial=best.number,
                    best_widths=best.widths,
                    winner=depth == winner,
                )
            )
    return rows


@dataclass(frozen=True)
class BandWinner:
    """The depth with the best score in one parameter band, and the runner-up depth."""

    params_low: int
    params_high: int
    depth: int
    value: float
    trial: int
    runner_up_depth: int
    runner_up_value: float
    n_depths: int


def band_winners(
    study: StudyLike, factor: float = 2.0, *, bands: Sequence[IsoBandRow] | None = None
) -> list[BandWinner]:
    """For every band holding at least two depths without a tie for first: who wins, by band.

    ``bands`` is the study's :func:`iso_param_table` when already built (then ``factor`` is
    the one it was built with); without it the table is built here.
    """
    data = as_data(study)
    rows = list(bands) if bands is not None else iso_param_table(data, factor)
    winners = []
    for row in (r for r in rows if r.winner):
        rivals = [r for r in rows if r.params_low == row.params_low and r.depth != row.depth]
        second = min(rivals, key=lambda r: (r.best_value if data.minimize else -r.best_value, r.depth))
        winners.append(
            BandWinner(
                row.params_low,
                row.params_high,
                row.depth,
                row.best_value,
                row.best_trial,
                second.depth,
                second.best_value,
                len(rivals) + 1,
            )
        )
    return winners


@dataclass(frozen=True)
class ParetoPoint:
    """A trial no other trial beats on both score and parameter count."""

    trial: int
    depth: int | None
    n_params: int
    value: float
    widths: tuple[float, ...] | None


def pareto_front(study: StudyLike, depth: int | None = None) -> list[ParetoPoint]:
    """Score-versus-parameters Pareto front (of one ``depth``, or of all), fewest parameters first.

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> for n_params, value in [(100, 0.5), (200, 0.6), (300, 0.2)]:
        ...     study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"n_params": n_params}))
        >>> [p.trial for p in pareto_front(study)]
        [0, 2]
    """
    data = as_data(study)
    candidates = [
        (n_params, r)
        for r in data.scored
        if (n_params := r.n_params) is not None and (depth is None or r.depth == depth)
    ]
    sign = 1.0 if data.minimize else -1.0
    front: list[ParetoPoint] = []
    for n_params, r in sorted(candidates, key=lambda c: (c[0], sign * c[1].score, c[1].number)):
        if not front or data.better(r.score, front[-1].value):
            front.append(ParetoPoint(r.number, r.depth, n_params, r.score, r.widths))
    return front


def pareto_fronts(study: StudyLike) -> dict[int, list[ParetoPoint]]:
    """Each depth's own score-versus-parameters Pareto front, keyed by depth."""
    data = as_data(study)
    depths = sorted({r.depth for r in data.scored if r.depth is not None and r.n_params is not None})
    return {d: pareto_front(data, d) for d in depths}


def _bands(data: StudyData, factor: float) -> dict[tuple[int, int], dict[int, list[TrialRecord]]]:
    bands: dict[tuple[int, int], dict[int, list[TrialRecord]]] = {}
    for r in data.scored:
        if r.depth is not None and r.n_params:
            bands.setdefault(param_band(r.n_params, factor), {}).setdefault(r.depth, []).append(r)
    return bands


def _winner(data: StudyData, bests: dict[int, TrialRecord | None]) -> int | None:
    if len(bests) < 2:
        return None
    scored = {depth: best.value for depth, best in bests.items() if best is not None and best.value is not None}
    if len(scored) < 2:
        return None
    ranked = sorted(scored.items(), key=lambda kv: kv[1] if data.minimize else -kv[1])
    (first, a), (_, b) = ranked[:2]
    return first if a != b else None
