"""Depth-versus-width reports: pure analysis functions of an Optuna study, and renderers.

The analysis functions take an ``optuna.Study`` (or the :class:`StudyData` that
:func:`collect` reads from one, to read a large study once) and return rows as frozen
dataclasses. :func:`study_answer` gives the call (``depth_wins``, ``equivalent``, ``inconclusive``
or ``single_depth``) and :func:`answer_line` puts it in words. :func:`write_report` writes
``report.html`` (self-contained), ``depth_width.csv``, ``summary.md``, ``verdict.json`` and one PNG
per figure; :func:`report_for` does it from a storage URL.
Nothing here imports Keras, TensorFlow or MLflow.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> import stacksearch as ss
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 2, "units": 32}, value=0.1,
    ...     distributions={"depth": IntDistribution(1, 3), "units": IntDistribution(8, 64)}))
    >>> ss.depth_width_table(study)[0].best_value
    0.1
"""

from __future__ import annotations

from stacksearch.report.analysis import Analysis, analyse
from stacksearch.report.confirmation import ConfirmationSummary, confirmation_summary
from stacksearch.report.curves import LearningCurves, learning_curves
from stacksearch.report.importance import Importances, param_importances
from stacksearch.report.iso import band_winners, iso_param_table, param_band, pareto_front, pareto_fronts
from stacksearch.report.study_answer import NOT_CONFIRMED, StudyAnswer, answer_line, band_pairs, study_answer
from stacksearch.report.tables import (
    DEPTH_WIDTH_COLUMNS,
    cost_table,
    depth_summary,
    depth_width_table,
    headline,
    unfinished_reasons,
    width_bins,
)
from stacksearch.report.trials import StudyData, collect
from stacksearch.report.verdict import UNCONFIRMED, Verdict, verdict
from stacksearch.report.verdict_json import verdict_json, verdict_record
from stacksearch.report.writer import default_out_dir, open_study, report_for, write_report
from stacksearch.stats.answer import Answer, depth_answer
from stacksearch.stats.margin import Margin, default_margin
from stacksearch.stats.sequential import SequentialDesign, design_for, looks_for, more_seeds_needed
from stacksearch.stats.width_answer import WidthAnswer, width_answer

__all__ = [
    "write_report",
    "report_for",
    "open_study",
    "default_out_dir",
    "analyse",
    "Analysis",
    "collect",
    "StudyData",
    "depth_width_table",
    "DEPTH_WIDTH_COLUMNS",
    "width_bins",
    "depth_summary",
    "iso_param_table",
    "band_winners",
    "param_band",
    "pareto_front",
    "pareto_fronts",
    "cost_table",
    "unfinished_reasons",
    "headline",
    "learning_curves",
    "LearningCurves",
    "param_importances",
    "Importances",
    "verdict",
    "Verdict",
    "UNCONFIRMED",
    "confirmation_summary",
    "ConfirmationSummary",
    "study_answer",
    "StudyAnswer",
    "answer_line",
    "NOT_CONFIRMED",
    "band_pairs",
    "depth_answer",
    "Answer",
    "width_answer",
    "WidthAnswer",
    "default_margin",
    "Margin",
    "SequentialDesign",
    "design_for",
    "looks_for",
    "more_seeds_needed",
    "verdict_json",
    "verdict_record",
]
