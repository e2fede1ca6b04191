"""A study's answer: the three-way depth call from its confirmation, the width call from its bands.

:func:`study_answer` reads, from an ``optuna.Study`` or its :class:`StudyData`:

- the ``confirmation`` user attribute: each retrained architecture's seeds' scores (the first
  objective of a multi-objective study). A depth is represented by its retrained architecture with
  the best mean; where a depth has several, a note says which (that choice is made on the same
  seeds, a small selection effect of its own);
- the ``confirm`` user attribute (the confirmation's settings): ``margin`` (else
  :func:`~stacksearch.stats.margin.default_margin` of the study's trivial baseline and best score),
  ``alpha`` (else 0.05), and the looks of its sequential design
  (:func:`~stacksearch.stats.sequential.looks_for`: 1 unless ``max_seeds`` exceeds ``seeds``);
- the ``budget`` user attribute (planned and spent), passed on to ``verdict.json``, or None.

Without a confirmation the call is ``inconclusive`` (:data:`NOT_CONFIRMED`); without a trial that
records a depth it is ``inconclusive`` too (:data:`NO_DEPTH`: nothing to compare); with one depth
searched and none retrained it is ``single_depth``.

The width question compares, in every factor-2 parameter band holding two or more depths, the best
search score of the band's deepest depth with that of its shallowest
(:func:`~stacksearch.stats.width_answer.width_answer`). The extremes are fixed before any score is
seen, so the direction of the comparison is not chosen from the data, as a winner-against-runner-up
pair would be. Each score is one search trial (one seed), so this is weaker evidence than the
retrained depth call, and the width reason says how many bands it rests on.

Example:
    >>> import optuna
    >>> study = optuna.create_study()
    >>> for depth, value in [(1, 0.5), (2, 0.2)]:
    ...     study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"depth": depth}))
    >>> s = study_answer(study)
    >>> s.answer.call, s.answer.next_step.startswith("run stacksearch confirm")
    ('inconclusive', True)
    >>> study.set_user_attr("confirmation", {"seeds": 3, "results": [
    ...     {"depth": 1, "trial": 0, "values": [0.50, 0.51, 0.52]},
    ...     {"depth": 2, "trial": 1, "values": [0.20, 0.21, 0.22]}]})
    >>> answer_line(study_answer(study))
    'Depth 2 wins: it beats depth 1 by more than the margin 0.01 (3 seeds per depth, alpha 0.05).'
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stacksearch.report.confirmation import ConfirmationSummary, ConfirmRow, confirmation_summary
from stacksearch.report.fmt import architecture, number
from stacksearch.report.iso import IsoBandRow, iso_param_table
from stacksearch.report.trials import StudyData, StudyLike, as_data
from stacksearch.stats.answer import ALPHA, Answer, DepthScores, depth_answer
from stacksearch.stats.margin import Margin, check_alpha, check_margin, default_margin
from stacksearch.stats.sequential import looks_for
from stacksearch.stats.width_answer import WidthAnswer, width_answer

__all__ = ["StudyAnswer", "study_answer", "answer_line", "band_pairs", "NOT_CONFIRMED", "NO_DEPTH", "CALL_WORDS"]

NOT_CONFIRMED = "Not confirmed: one seed per configuration."
NO_DEPTH = "No trial records a depth (a depth parameter or user attribute): depths cannot be compared."
CALL_WORDS = {
    "depth_wins": "a depth wins",
    "equivalent": "equivalent",
    "inconclusive": "inconclusive",
    "single_depth": "single depth",
}
WIDTH_WORDS = {
    "deeper_wins": "deeper wins",
    "wider_wins": "wider wins",
    "equivalent": "deeper and wider are equivalent",
    "inconclusive": "inconclusive",
    "no_bands": "not compared",
}


@dataclass(frozen=True)
class StudyAnswer:
    """The depth :class:`Answer`, the :class:`WidthAnswer` (None without depths), the margin used and
    its rule, the notes the report prints beside them, the ``budget`` record (or None), and each
    compared depth's retrained architecture (``retrained``, by depth; its search trial's parameter
    count in ``n_params``). ``cheapest``: the compared depth whose retrained architecture has the
    fewest parameters (the shallowest where a count is unknown).

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> study.add_trial(optuna.trial.create_trial(value=0.3, user_attrs={"depth": 3}))
        >>> s = study_answer(study)
        >>> s.answer.call, s.width.call, s.budget
        ('single_depth', 'no_bands', None)
    """

    answer: Answer
    width: WidthAnswer | None
    margin: Margin
    metric: str
    notes: tuple[str, ...]
    budget: Mapping[str, Any] | None
    retrained: Mapping[int, ConfirmRow]
    n_params: Mapping[int, int | None]
    cheapest: int | None

    @property
    def line(self) -> str:
        """:func:`answer_line` of this answer."""
        return answer_line(self)


def study_answer(
    study: StudyLike,
    *,
    bands: Sequence[IsoBandRow] | None = None,
    confirmation: ConfirmationSummary | None = None,
) -> StudyAnswer:
    """The study's depth and width answers (see the module docstring).

    ``bands`` (:func:`iso_param_table`) and ``confirmation`` (:func:`confirmation_summary` of the
    study's ``confirmation`` attribute) are read when given, built here when not. Raises
    :class:`~stacksearch.exceptions.ConfigError` when the study's ``confirm.margin`` or
    ``confirm.alpha`` is not a valid number.
    """
    data = as_data(study)
    settings = data.confirm or {}
    alpha = ALPHA if settings.get("alpha") is None else check_alpha(settings["alpha"], "confirm.alpha")
    best = data.best_of(data.scored)
    margin = _margin(data, settings, best.value if best is not None else None)
    looks = looks_for(settings)
    if confirmation is None and data.confirmation:
        confirmation = confirmation_summary(data.confirmation, data.direction, data.metric)
    retrained, notes = _representatives(confirmation, data.direction)
    searched = sorted({r.depth for r in data.scored if r.depth is not None})

    def fixed(call: str, reason: str, next_step: str | None, depths: Sequence[int]) -> Answer:
        rows = tuple(DepthScores.of(d, [], alpha) for d in depths)
        return Answer(
            call, None, tuple(depths), margin.value, alpha, data.direction, rows, (), reason, next_step, None, looks
        )

    if best is None:
        answer = fixed("inconclusive", "No trial completed with a score.", _NO_TRIAL_STEP, ())
    elif not searched and not retrained:
        answer = fixed("inconclusive", NO_DEPTH, _NO_DEPTH_STEP, ())
    elif retrained:
        scores = {d: [*row.values, *[float("nan")] * row.n_failed] for d, row in retrained.items()}
        answer = depth_answer(scores, data.direction, margin.value, alpha, looks=looks, metric=_unit(data.metric))
        notes += _confirmation_notes(data, retrained, searched)
    elif len(searched) == 1:
        reason = f"Only depth {searched[0]} was searched: there is no other depth to compare it with."
        answer = fixed("single_depth", reason, None, searched)
    else:
        step = f"run stacksearch confirm {shlex.quote(data.study_name)} (or a budget with confirm on)"
        answer = fixed("inconclusive", NOT_CONFIRMED, step, searched)
    if data.multi_objective:
        notes += (f"Multi-objective study: the answer compares the first objective, {data.metric}.",)
    width = None
    if searched:
        pairs = band_pairs(bands if bands is not None else iso_param_table(data))
        width = width_answer(pairs, data.direction, margin.value, alpha, metric=_unit(data.metric))
    n_params = {d: _n_params(data, row.trial, d) for d, row in retrained.items()}
    return StudyAnswer(
        answer, width, margin, data.metric, notes, data.budget, retrained, n_params, _cheapest(answer, n_params)
    )


def band_pairs(bands: Sequence[IsoBandRow]) -> list[tuple[float, float]]:
    """One ``(deeper, shallower)`` pair per parameter band holding two or more depths: the best
    scores of the band's deepest and shallowest depths, bands in order.

    Example:
        >>> from stacksearch.report.iso import IsoBandRow
        >>> rows = [IsoBandRow(1024, 2048, d, 1, v, v, 0, None, False) for d, v in [(1, 0.5), (2, 0.4), (3, 0.3)]]
        >>> band_pairs(rows + [IsoBandRow(2048, 4096, 1, 1, 0.2, 0.2, 0, None, False)])
        [(0.3, 0.5)]
    """
    by_band: dict[tuple[int, int], list[IsoBandRow]] = {}
    for row in bands:
        by_band.setdefault((row.params_low, row.params_high), []).append(row)
    pairs = []
    for _, rows in sorted(by_band.items()):
        if len({r.depth for r in rows}) >= 2:
            deepest, shallowest = max(rows, key=lambda r: r.depth), min(rows, key=lambda r: r.depth)
            pairs.append((deepest.best_value, shallowest.best_value))
    return pairs


def answer_line(answer: Answer | StudyAnswer, *, cheapest: int | None = None, metric: str = "") -> str:
    """The call in words, one line, starting with the call: "Depth d wins", "Equivalent",
    "Inconclusive" or "Single depth". What ``stacksearch run`` prints at its end.

    ``answer`` is a :class:`StudyAnswer` (its cheapest depth and metric are used) or a plain
    :class:`Answer`, with ``cheapest`` and ``metric`` given here.

    Example:
        >>> a = depth_answer({1: [0.200, 0.201, 0.199], 2: [0.201, 0.200, 0.202]}, "minimize", margin=0.02)
        >>> answer_line(a, cheapest=1, metric="mse")  # doctest: +NORMALIZE_WHITESPACE
        'Equivalent: depths 1, 2 are equal within ±0.02 mse (3 seeds per depth, alpha 0.05);
         take the cheapest, depth 1.'
    """
    if isinstance(answer, StudyAnswer):
        a, cheapest, metric = answer.answer, answer.cheapest, _unit(answer.metric)
    else:
        a = answer
    unit = f" {metric}" if metric else ""
    if a.call == "depth_wins":
        others = _depths([d for d in a.compared_depths if d != a.winner])
        return (
            f"Depth {a.winner} wins: it beats {others} by more than the margin {number(a.margin)}{unit} "
            f"({_seeds(a)}, alpha {number(a.alpha)})."
        )
    if a.call == "equivalent":
        take = f"; take the cheapest, depth {cheapest}" if cheapest is not None else "; take the cheapest"
        return (
            f"Equivalent: depths {_listed(a.compared_depths)} are equal within ±{number(a.margin)}{unit} "
            f"({_seeds(a)}, alpha {number(a.alpha)}){take}."
        )
    if a.call == "single_depth":
        return f"Single depth: {_lower_first(a.reason)}"
    settle = f" To settle it: {a.next_step}." if a.next_step else ""
    return f"Inconclusive: {_lower_first(a.reason)}{settle}"


_NO_TRIAL_STEP = "look at the trials' fail_reason and reject_reason, then run more trials"
_NO_DEPTH_STEP = "record each trial's depth (a depth parameter, or trial.set_user_attr('depth', d)) to compare depths"


def _margin(data: StudyData, settings: Mapping[str, Any], best: float | None) -> Margin:
    if settings.get("margin") is not None:
        value = check_margin(settings["margin"], "confirm.margin")
        return Margin(value, f"set in the study (confirm.margin: {number(value)})")
    if best is None:
        return Margin(0.0, "no completed trial: no score to set a margin from")
    return default_margin(data.baseline, best, direction=data.direction)


def _representatives(
    summary: ConfirmationSummary | None, direction: str
) -> tuple[dict[int, ConfirmRow], tuple[str, ...]]:
    """Each depth's retrained architecture with the best mean, and a note for each depth that had several."""
    if summary is None:
        return {}, ()
    sign = 1.0 if direction == "minimize" else -1.0
    by_depth: dict[int, list[ConfirmRow]] = {}
    for row in summary.rows:
        by_depth.setdefault(row.depth, []).append(row)
    chosen, notes = {}, []
    for depth, rows in sorted(by_depth.items()):
        scored = [(mean, r) for r in rows if (mean := r.mean) is not None]
        best = min(scored, key=lambda pair: sign * pair[0])[1] if scored else rows[0]
        chosen[depth] = best
        if len(rows) > 1:
            notes.append(
                f"Depth {depth} has {len(rows)} retrained architectures; the one with the best mean "
                f"({architecture(depth, best.widths)}, {_trial(best.trial)}) represents it, a choice made on the same "
                "seeds, which favours that depth slightly."
            )
    return chosen, tuple(notes)


def _confirmation_notes(data: StudyData, retrained: Mapping[int, ConfirmRow], searched: list[int]) -> tuple[str, ...]:
    notes = []
    left = [d for d in searched if d not in retrained]
    if left:
        notes.append(
            f"{_depths(left).capitalize()} {'was' if len(left) == 1 else 'were'} searched but not retrained "
            f"(the confirmation retrains the best depths only): the call is among {_depths(sorted(retrained))}."
        )
    for depth, row in sorted(retrained.items()):
        now = data.best_of([r for r in data.scored if r.depth == depth])
        if now is not None and row.trial is not None and now.number != row.trial:
            then = next((r for r in data.scored if r.number == row.trial), None)
            if then is None or data.better(now.score, then.score):
                notes.append(
                    f"Depth {depth}'s best search trial is now #{now.number}, not the retrained #{row.trial}: "
                    "run the confirmation again to retrain it."
                )
    notes.append(
        "The retrained models are scored on the same validation split the search chose them on: their fresh "
        "seeds are a fresh draw of training noise, not of data, so the scores are optimistic for new data."
    )
    tests = [(d, row) for d, row in sorted(retrained.items()) if row.test_mean is not None]
    if tests:
        listed = "; ".join(
            f"depth {d} {number(row.test_mean)} ({len(row.test_values)} seed{'s' * (len(row.test_values) != 1)})"
            for d, row in tests
        )
        notes.append(f"Test {data.metric} of the retrained models (a split the search never chose on): {listed}.")
    return tuple(notes)


def _n_params(data: StudyData, trial: int | None, depth: int) -> int | None:
    """The parameter count of search trial ``trial``, when it is known and the trial has ``depth``."""
    return next((r.n_params for r in data.trials if r.number == trial and r.depth == depth), None)


def _cheapest(answer: Answer, n_params: Mapping[int, int | None]) -> int | None:
    depths = answer.compared_depths
    if not depths:
        return None
    counts = [n_params.get(d) for d in depths]
    if all(c is not None for c in counts):
        return min(zip(counts, depths))[1]
    return min(depths)


def _seeds(answer: Answer) -> str:
    counts = sorted({d.seeds for d in answer.depths})
    text = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{text} seed{'s' * (counts[-1] != 1)} per depth"


def _unit(metric: str) -> str:
    return "" if metric == "value" else metric


def _trial(number_: int | None) -> str:
    return "search trial unknown" if number_ is None else f"search trial #{number_}"


def _listed(depths: Sequence[int]) -> str:
    return ", ".join(str(d) for d in depths)


def _depths(depths: Sequence[int]) -> str:
    return f"depth {depths[0]}" if len(depths) == 1 else f"depths {_listed(depths)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
