"""Every table of the report computed once from a study: what the renderers draw from.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 1, "units": 16}, value=0.4,
    ...     distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> result = analyse(study)
    >>> result.headline.best.number, result.verdict.call, result.answer.answer.call
    (0, 'single depth', 'single_depth')
"""

from __future__ import annotations

from dataclasses import dataclass

from stacksearch.report.confirmation import ConfirmationSummary, confirmation_summary
from stacksearch.report.curves import LearningCurves, learning_curves
from stacksearch.report.importance import Importances, param_importances
from stacksearch.report.iso import BandWinner, IsoBandRow, ParetoPoint, band_winners, iso_param_table, pareto_front
from stacksearch.report.study_answer import StudyAnswer, study_answer
from stacksearch.report.tables import (
    CostRow,
    DepthRow,
    DepthWidthRow,
    Headline,
    ReasonRow,
    cost_table,
    depth_summary,
    depth_width_table,
    headline,
    unfinished_reasons,
)
from stacksearch.report.trials import StudyData, StudyLike, as_data
from stacksearch.report.variants import VariantCall, VariantTables, variant_call, variant_tables
from stacksearch.report.verdict import TOP_K, Verdict, verdict

__all__ = ["Analysis", "analyse"]


@dataclass(frozen=True)
class Analysis:
    """The report's numbers: one field per table, plus the study data they came from.

    ``answer`` is the call (:class:`~stacksearch.report.study_answer.StudyAnswer`: the depth and
    width answers, the margin, the notes, the budget); ``verdict`` the search's evidence beside it.
    ``variants`` holds each variant's own tables and ``variant_call`` whether the variant changes the
    depth answer (:mod:`~stacksearch.report.variants`): ``()`` and None when the study holds one variant.
    """

    data: StudyData
    headline: Headline
    answer: StudyAnswer
    verdict: Verdict
    depth_width: list[DepthWidthRow]
    depths: list[DepthRow]
    bands: list[IsoBandRow]
    band_winners: list[BandWinner]
    front: list[ParetoPoint]
    cost: list[CostRow]
    reasons: list[ReasonRow]
    curves: LearningCurves
    importances: Importances
    confirmation: ConfirmationSummary | None
    variants: tuple[VariantTables, ...] = ()
    variant_call: VariantCall | None = None


def analyse(study: StudyLike) -> Analysis:
    """Compute every table of the report, each once: the verdict reads the tables computed here.

    Raises :class:`~stacksearch.exceptions.NoCompletedTrialError` (a ValueError) when no trial completed.
    """
    data = as_data(study)
    head = headline(data)
    importances = param_importances(data)
    depths = depth_summary(data, top_k=TOP_K)
    bands = iso_param_table(data)
    winners = band_winners(data, bands=bands)
    confirmation = confirmation_summary(data.confirmation, data.direction, data.metric) if data.confirmation else None
    answer = study_answer(data, bands=bands, confirmation=confirmation)
    per_variant = variant_tables(data)
    call = variant_call(per_variant)
    evidence = verdict(
        data, importances, depths=depths, winners=winners, confirmation=confirmation, answer=answer, variants=call
    )
    return Analysis(
        data=data,
        headline=head,
        answer=answer,
        verdict=evidence,
        depth_width=depth_width_table(data),
        depths=depths,
        bands=bands,
        band_winners=winners,
        front=pareto_front(data),
        cost=cost_table(data),
        reasons=unfinished_reasons(data),
        curves=learning_curves(data),
        importances=importances,
        confirmation=confirmation,
        variants=per_variant,
        variant_call=call,
    )
