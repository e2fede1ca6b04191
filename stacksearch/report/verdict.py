"""The verdict's supporting evidence: what the search says about depth versus width, and what it cannot.

The call itself is the study's answer (:mod:`~stacksearch.report.study_answer`: ``depth_wins``,
``equivalent``, ``inconclusive`` or ``single_depth``, from the retrained seeds); this module gives
the evidence of the search beside it, one seed per configuration, and never names a winner:

- the search's depth comparison: a depth "leads clear" of the others only when every searched depth
  has at least ``min_trials`` completed trials ("too thin" otherwise), and the leader's interval over
  its best trials (see :class:`~stacksearch.report.tables.DepthRow`) overlaps no other depth's
  ("overlap");
- matched parameter counts: which depth wins each factor-2 band that holds two depths, and a
  warning when the search's clear leader is not the depth that wins the most bands; where the study
  searched several stack variants, whether the variant changes that answer
  (:func:`~stacksearch.report.variants.variant_call`);
- importances: PED-ANOVA's ranking, checked against fANOVA's; "indicative only" below
  :data:`MIN_IMPORTANCE_TRIALS` scored trials (PED-ANOVA wants 5 trials in its top 10%);
- the confirmation state, from the answer: :data:`UNCONFIRMED` without retrained seeds,
  ``"confirmed"`` when the answer is decided (``depth_wins`` or ``equivalent``), ``"not confirmed"``
  otherwise.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 1}, value=0.3,
    ...     distributions={"depth": IntDistribution(1, 2)}))
    >>> v = verdict(study)
    >>> v.call, v.confirmation, v.answer.answer.call
    ('single depth', 'unconfirmed (one seed per configuration)', 'single_depth')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from stacksearch.report.confirmation import ConfirmationSummary
from stacksearch.report.fmt import architecture, interval, number
from stacksearch.report.importance import Importances, param_importances
from stacksearch.report.iso import BandWinner, band_winners
from stacksearch.report.study_answer import StudyAnswer, study_answer
from stacksearch.report.tables import DepthRow, depth_summary
from stacksearch.report.trials import StudyData, StudyLike, as_data
from stacksearch.report.variants import VariantCall, variant_call, variant_tables
from stacksearch.states import ENDED

__all__ = ["Verdict", "verdict", "MIN_TRIALS_PER_DEPTH", "MIN_IMPORTANCE_TRIALS", "UNCONFIRMED"]

MIN_TRIALS_PER_DEPTH = 5
MIN_IMPORTANCE_TRIALS = 50
TOP_K = 5
UNCONFIRMED = "unconfirmed (one seed per configuration)"


@dataclass(frozen=True)
class Verdict:
    """The search's evidence in words and in fields, with the study's answer it supports.

    ``call`` (the search's comparison, not the answer): ``"clear lead"``, ``"overlap"``,
    ``"too thin"``, ``"single depth"`` or ``"no depth"`` (no completed trial records one). ``leader``
    is the depth with the best mean over its top trials, whatever the call. ``confirmation``:
    ``"confirmed"``, ``"not confirmed"`` or :data:`UNCONFIRMED` (see the module docstring). ``lines``
    are the sentences of the report's evidence, most important first; ``answer`` the
    :class:`StudyAnswer` (its line is the headline).
    """

    call: str
    leader: int | None
    confirmation: str
    lines: tuple[str, ...]
    answer: StudyAnswer

    @property
    def summary(self) -> str:
        """One line: what the search shows, then what the retrained seeds say (or that there are none)."""
        calls = {
            "clear lead": f"in the search, depth {self.leader} leads clear of every other depth",
            "overlap": f"in the search, no depth is clear of the others (depth {self.leader} leads within "
            "overlapping intervals)",
            "too thin": "in the search, too few trials per depth to compare them",
            "single depth": f"only depth {self.leader} was searched",
            "no depth": "no trial records a depth",
        }
        answer = self.answer.answer
        if self.confirmation == UNCONFIRMED:
            after = UNCONFIRMED
        else:
            said = f"depth {answer.winner} wins" if answer.call == "depth_wins" else answer.call.replace("_", " ")
            after = f"retrained with fresh seeds: {said}"
        return f"{calls[self.call]}; {after}"

    @property
    def sentence(self) -> str:
        """:attr:`summary` as a sentence: capitalised, with a full stop."""
        return f"{self.summary[0].upper()}{self.summary[1:]}."


def verdict(
    study: StudyLike,
    importances: Importances | None = None,
    *,
    min_trials: int = MIN_TRIALS_PER_DEPTH,
    depths: Sequence[DepthRow] | None = None,
    winners: Sequence[BandWinner] | None = None,
    confirmation: ConfirmationSummary | None = None,
    answer: StudyAnswer | None = None,
    variants: VariantCall | None = None,
) -> Verdict:
    """Write the verdict's evidence from the study's numbers.

    The tables it reads are computed here unless given (as :func:`~stacksearch.report.analyse`
    gives them, built once for the whole report): ``importances``
    (:func:`param_importances`), ``depths`` (:func:`depth_summary` with ``top_k`` =
    :data:`TOP_K`), ``winners`` (:func:`band_winners`), ``confirmation``
    (:func:`confirmation_summary` of the study's confirmation results) and ``answer``
    (:func:`~stacksearch.report.study_answer.study_answer`). ``variants``
    (:func:`~stacksearch.report.variants.variant_call`) is computed here when not given; with one
    variant there is none and no line about variants.
    """
    data = as_data(study)
    rows = list(depths) if depths is not None else depth_summary(data, top_k=TOP_K)
    if winners is None:
        winners = band_winners(data)
    if answer is None:
        answer = study_answer(data, confirmation=confirmation)
    call, leader, depth_line = _depth_call(data, rows, min_trials)
    lines = [_baseline_line(data), depth_line, _uncompared_line(data, rows)]
    lines.append(_band_line(winners, leader if call == "clear lead" else None))
    if variants is None:
        variants = variant_call(variant_tables(data))
    lines.append(variants.sentence if variants is not None else "")
    lines += _importance_lines(importances if importances is not None else param_importances(data))
    if not data.confirmation:
        state = UNCONFIRMED
    else:
        state = "confirmed" if answer.answer.decided else "not confirmed"
    return Verdict(call, leader, state, tuple(line for line in lines if line), answer)


def _baseline_line(data: StudyData) -> str:
    best = data.best_of(data.scored)
    if best is None:
        return ""
    text = (
        f"The best trial (#{best.number}, {architecture(best.depth, best.widths)}) scores "
        f"{number(best.value)} validation {data.metric}"
    )
    if data.baseline is None:
        return text + " (no trivial baseline is known for this study)."
    if data.better(best.score, data.baseline):
        return text + f", better than the trivial baseline {number(data.baseline)}."
    return (
        text + f", no better than the trivial baseline {number(data.baseline)}: no architecture "
        "learned the task, so the depth comparisons below say little."
    )


def _depth_call(data: StudyData, rows: list[DepthRow], min_trials: int) -> tuple[str, int | None, str]:
    if not rows:
        return "no depth", None, "No completed trial has a known depth."
    sign = 1.0 if data.minimize else -1.0
    ranked = sorted(rows, key=lambda r: (sign * _top_mean(r), r.depth))
    lead = ranked[0]
    if len(rows) == 1:
        return "single depth", lead.depth, f"Only depth {lead.depth} was searched: depths cannot be compared."
    thin = [r for r in rows if r.n_complete < min_trials]
    if thin:
        listed = ", ".join(f"depth {r.depth} ({r.n_complete})" for r in thin)
        return (
            "too thin",
            lead.depth,
            (
                f"Too few search trials to compare depths: {listed} completed fewer than {min_trials} trials; "
                f"depth {lead.depth} leads the search for now."
            ),
        )
    lead_interval = interval(lead.top_low, lead.top_high, lead.top_clipped)
    lead_text = f"depth {lead.depth} (mean of its best {lead.top_n}: {number(lead.top_mean)} {lead_interval})"
    overlapping = [r for r in ranked[1:] if _overlap(lead, r)]
    if overlapping:
        others = ", ".join(f"depth {r.depth} {interval(r.top_low, r.top_high, r.top_clipped)}" for r in overlapping)
        return (
            "overlap",
            lead.depth,
            (
                f"No depth is clear of the others in the search: {lead_text} leads, "
                f"but its 95% interval overlaps {others}."
            ),
        )
    second = ranked[1]
    return (
        "clear lead",
        lead.depth,
        (
            f"In the search, {lead_text} leads clear of every other depth; the runner-up, "
            f"depth {second.depth}, reaches {number(second.top_mean)} "
            f"{interval(second.top_low, second.top_high, second.top_clipped)}. A spread over configurations "
            "with one seed each: the retrained seeds decide."
        ),
    )


def _uncompared_line(data: StudyData, rows: list[DepthRow]) -> str:
    searched = {r.depth for r in data.trials if r.state in ENDED and r.depth is not None}
    missing = sorted(searched - {row.depth for row in rows})
    if not missing:
        return ""
    listed = ", ".join(str(d) for d in missing)
    return f"Depth {listed}: no completed trial (all pruned, rejected or failed), so not compared."


def _top_mean(row: DepthRow) -> float:
    """A searched depth's mean of its best scores: it has one, for it has a completed trial."""
    assert row.top_mean is not None, "every depth row has a scored trial"
    return row.top_mean


def _overlap(a: DepthRow, b: DepthRow) -> bool:
    if a.top_low is None or a.top_high is None or b.top_low is None or b.top_high is None:
        return True
    return a.top_low <= b.top_high and b.top_low <= a.top_high


def _band_line(winners: Sequence[BandWinner], leader: int | None) -> str:
    if not winners:
        return "No factor-2 parameter band holds two depths, so depths cannot be compared at matched parameter counts."
    wins = Counter(w.depth for w in winners)
    tally = ", ".join(f"depth {d} wins {n}" for d, n in sorted(wins.items(), key=lambda kv: (-kv[1], kv[0])))
    line = f"At matched parameter counts ({len(winners)} factor-2 bands hold two or more depths): {tally}."
    if leader is not None and wins[leader] < max(wins.values()):
        line += (
            f" Depth {leader} leads the search overall but not the most bands: its lead may come from size, not depth."
        )
    return line


def _importance_lines(result: Importances) -> list[str]:
    if not result.ped_anova:
        return list(result.notes)
    lines = [f"Importance (PED-ANOVA, {result.n_trials} trials): {_ranking(result.ped_anova)}."]
    if result.fanova is not None:
        lines.append(f"fANOVA cross-check ({result.fanova_trials} trials): {_ranking(result.fanova)}.")
        lines.append(_agreement(result))
    lines += result.notes
    if result.n_trials < MIN_IMPORTANCE_TRIALS:
        lines.append(
            f"Importances from {result.n_trials} trials are indicative only "
            f"(PED-ANOVA wants at least 5 trials in its top 10%, about {MIN_IMPORTANCE_TRIALS})."
        )
    return lines


def _ranking(importances: dict[str, float]) -> str:
    return " > ".join(f"{name} {value:.2f}" for name, value in importances.items())


def _agreement(result: Importances) -> str:
    ped, fanova = result.ped_anova, result.fanova or {}
    if not {"depth", "width"} <= ped.keys() or not {"depth", "width"} <= fanova.keys():
        return "Depth and width cannot both be ranked: one of them did not vary."
    ped_depth, fanova_depth = ped["depth"] > ped["width"], fanova["depth"] > fanova["width"]
    if ped_depth == fanova_depth:
        first, second = ("depth", "width") if ped_depth else ("width", "depth")
        return f"Both evaluators rank {first} above {second}."
    return "The evaluators disagree on depth versus width: treat their order as unresolved."
