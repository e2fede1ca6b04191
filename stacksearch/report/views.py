"""The report's tables as text cells (headers, rows), shared by the HTML and Markdown renderers.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> from stacksearch.report.analysis import analyse
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 1, "units": 16}, value=0.4,
    ...     distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> headers, rows = depths_view(analyse(study))
    >>> headers[:5]
    ['depth', 'completed', 'best', 'best trial', 'best architecture']
    >>> rows
    [['1', '1', '0.4', '#0', '1 x 16', '0.4', '0.4 (1)', '-']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stacksearch.metrics import metric_bounds
from stacksearch.report.analysis import Analysis
from stacksearch.report.fmt import architecture, duration, interval, number
from stacksearch.report.iso import IsoBandRow
from stacksearch.report.stats import MIN_INTERVAL_POINTS
from stacksearch.report.study_answer import WIDTH_WORDS
from stacksearch.report.tables import DepthWidthRow
from stacksearch.stats.answer import TestResult

__all__ = [
    "View",
    "headline_view",
    "depth_width_view",
    "depths_view",
    "depths_caption",
    "bands_view",
    "front_view",
    "importance_view",
    "cost_view",
    "limit_sentence",
    "reasons_view",
    "confirmation_view",
    "confirmation_caption",
    "answer_lines",
    "tests_view",
    "width_tests_view",
]

View = tuple[list[str], list[list[str]]]


def headline_view(a: Analysis) -> View:
    """Two columns: what, value."""
    h, best = a.headline, a.headline.best
    metric = f"{h.metric} ({'lower' if h.direction == 'minimize' else 'higher'} is better)"
    reference = "-"
    if h.reference:
        reference = f"{number(h.reference.get('value'))} ({h.reference.get('source', 'no source given')})"
    rows = [
        ["best architecture", f"{architecture(best.depth, best.widths)} ({number(best.n_params)} parameters)"],
        ["best trial", f"#{best.number}, learning rate {number(best.learning_rate, 3)}"],
        [f"validation {h.metric}", number(best.value)],
        [f"test {h.metric}", number(best.test_value)],
        ["trivial baseline", number(h.baseline)],
        ["literature reference", reference],
        ["metric", metric],
        ["benchmark", h.benchmark or "-"],
        [
            "trials",
            f"{h.n_complete} completed, {h.n_pruned} pruned, {h.n_rejected} rejected, "
            f"{h.n_failed} failed, {h.n_running} running",
        ],
        ["compute", f"{duration(h.train_seconds)} training in total, {duration(h.wall_seconds)} wall clock"],
    ]
    if a.answer.budget is not None:
        rows.append(["budget", _budget(a.answer.budget)])
    if h.multi_objective:
        rows.append(["objectives", f"{h.metric} and parameter count: the best {h.metric} on the Pareto front is shown"])
    return ["", ""], rows


def depth_width_view(a: Analysis, rows_: Sequence[DepthWidthRow] | None = None) -> View:
    """The depth x width table (the CSV's columns): of ``rows_`` (one variant's) when given, else the study's."""
    headers = ["depth", "width", "trials", "completed", "best", "median", "best trial", "median parameters"]
    rows = [
        [
            str(r.depth),
            r.width,
            str(r.n_trials),
            str(r.n_complete),
            number(r.best_value),
            number(r.median_value),
            _trial(r.best_trial),
            number(r.median_n_params),
        ]
        for r in (a.depth_width if rows_ is None else rows_)
    ]
    return headers, rows


def depths_view(a: Analysis) -> View:
    """One row per depth: best, median and the interval over its best trials."""
    headers = [
        "depth",
        "completed",
        "best",
        "best trial",
        "best architecture",
        "median",
        "mean of best 5",
        "95% interval",
    ]
    rows = [
        [
            str(r.depth),
            str(r.n_complete),
            number(r.best_value),
            _trial(r.best_trial),
            architecture(r.depth, r.best_widths),
            number(r.median_value),
            f"{number(r.top_mean)} ({r.top_n})",
            interval(r.top_low, r.top_high, r.top_clipped),
        ]
        for r in a.depths
    ]
    return headers, rows


def depths_caption(a: Analysis) -> str:
    """What the per-depth interval is, from how many trials it is shown, and any end moved onto the metric's range."""
    text = (
        f"The interval is the 95% Student-t interval of the mean of each depth's best trials (how many in "
        f'brackets), shown from {MIN_INTERVAL_POINTS} trials up ("-" below: from two points it is about nine '
        "times as wide as their spread and says nothing). It is a spread over configurations (different widths "
        "and learning rates), not over seeds; the confirmation step measures seeds."
    )
    return text + _clipped_note(a.headline.metric, [r.top_clipped for r in a.depths])


def confirmation_caption(a: Analysis) -> str:
    """What the confirmation interval is, from how many seeds it is shown, and any end moved onto the range."""
    text = (
        f"Mean over seeds and its 95% Student-t interval, shown from {MIN_INTERVAL_POINTS} seeds up "
        '("-" below: from two points it is about nine times as wide as their spread and says nothing).'
    )
    rows = a.confirmation.rows if a.confirmation else ()
    return text + _clipped_note(a.headline.metric, [r.clipped for r in rows])


def _clipped_note(metric: str, clipped: list[tuple[bool, bool]]) -> str:
    if not any(any(flags) for flags in clipped):
        return ""
    low, high = metric_bounds(metric)
    where = (
        f"{number(low)} to {number(high)}"
        if low is not None and high is not None
        else (f">= {number(low)}" if low is not None else f"<= {number(high)}")
    )
    return (
        f" * marks an end moved onto the range of {metric} ({where}): the t interval reached past it, "
        f"where no mean {metric} can lie."
    )


def bands_view(a: Analysis, rows_: Sequence[IsoBandRow] | None = None) -> View:
    """Parameter bands by depth: each cell the depth's best score (completed trials); ``*`` marks the winner.

    Of ``rows_`` (one variant's bands) when given, else of the study's.
    """
    source = a.bands if rows_ is None else rows_
    depths = sorted({r.depth for r in source})
    bands = sorted({(r.params_low, r.params_high) for r in source})
    cells = {(r.params_low, r.depth): r for r in source}
    rows = []
    for low, high in bands:
        row = [f"{number(low)}-{number(high - 1)}"]
        for depth in depths:
            cell = cells.get((low, depth))
            row.append(
                "" if cell is None else f"{'*' if cell.winner else ''}{number(cell.best_value)} ({cell.n_complete})"
            )
        rows.append(row)
    return ["parameters", *(f"depth {d}" for d in depths)], rows


def front_view(a: Analysis) -> View:
    """The overall score-versus-parameters Pareto front."""
    headers = ["parameters", "best", "trial", "architecture"]
    rows = [[number(p.n_params), number(p.value), _trial(p.trial), architecture(p.depth, p.widths)] for p in a.front]
    return headers, rows


def importance_view(a: Analysis) -> View:
    """Importance per derived parameter by each evaluator."""
    imp = a.importances
    rows = [
        [name, f"{value:.3f}", "-" if imp.fanova is None else f"{imp.fanova.get(name, 0.0):.3f}"]
        for name, value in imp.ped_anova.items()
    ]
    return ["parameter", "PED-ANOVA", "fANOVA"], rows


def cost_view(a: Analysis) -> View:
    """Compute per depth."""
    headers = [
        "depth",
        "trials",
        "completed",
        "pruned",
        "rejected",
        "failed",
        "pruned share",
        "median epochs",
        "median seconds",
        "total",
        "median s/epoch",
        "median parameters",
    ]
    rows = [
        [
            str(r.depth),
            str(r.n_trials),
            str(r.n_complete),
            str(r.n_pruned),
            str(r.n_rejected),
            str(r.n_failed),
            "-" if r.pruned_share is None else f"{r.pruned_share:.0%}",
            number(r.median_epochs, 3),
            number(r.median_seconds, 3),
            duration(r.total_seconds),
            number(r.median_seconds_per_epoch, 3),
            number(r.median_n_params),
        ]
        for r in a.cost
    ]
    return headers, rows


def limit_sentence(a: Analysis) -> str | None:
    """The runs' wall time against their trials' steady epochs (the ``limit`` attribute), or None.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> limit = {"wall_seconds": 95.0, "workers": 1, "worker_seconds": 95.0, "steady_seconds": 41.0,
        ...          "ratio": 2.317, "runs": 1}
        >>> print(limit_sentence(NS(data=NS(limit=limit)))[:62])
        Wall 95 s (1 run), of which steady epochs 41 s: 2.3x the limit
    """
    limit = a.data.limit
    if not limit or limit.get("ratio") is None:
        return None
    runs = int(limit.get("runs", 1))
    workers = float(limit.get("worker_seconds", 0)) / max(1e-9, float(limit.get("wall_seconds", 0)))
    who = f", {workers:.1f} workers on average" if workers > 1.05 else ""
    return (
        f"Wall {duration(limit['wall_seconds'])} ({runs} run{'s' if runs != 1 else ''}{who}), of which steady epochs "
        f"{duration(limit['steady_seconds'])}: {limit['ratio']:.1f}x the limit (worker-seconds over the seconds the "
        "trials' epochs after the first took: 1.0 would be training and nothing else; the rest is building, "
        "tracing or compiling, storage and tracking)."
    )


def reasons_view(a: Analysis) -> View:
    """Trials that did not complete, by state and reason."""
    return ["state", "reason", "trials", "example"], [
        [r.state, r.reason, str(r.count), _trial(r.example_trial)] for r in a.reasons
    ]


def confirmation_view(a: Analysis) -> View:
    """Each retrained architecture's seeds, mean and 95% interval (and test mean, where stored)."""
    rows_ = a.confirmation.rows if a.confirmation else ()
    tested = any(r.test_values for r in rows_)
    rows = [
        [
            str(r.depth),
            architecture(r.depth, r.widths),
            _trial(r.trial),
            str(len(r.values)),
            str(r.n_failed),
            number(r.mean),
            interval(r.low, r.high, r.clipped),
            *([number(r.test_mean)] if tested else []),
        ]
        for r in rows_
    ]
    headers = ["depth", "architecture", "search trial", "seeds", "failed seeds", "mean", "95% interval"]
    return headers + (["test mean"] if tested else []), rows


def answer_lines(a: Analysis) -> list[str]:
    """The sentences under the call: why, the margin, the looks, the width answer and the notes."""
    s, ans = a.answer, a.answer.answer
    unit = "" if s.metric == "value" else f" {s.metric}"
    lines = []
    if ans.decided:
        lines.append(f"Why: {ans.reason}")
    if len(ans.compared_depths) > 1:
        lines.append(f"Practical margin: {number(ans.margin)}{unit}, {s.margin.rule}.")
    seen = [d for d in ans.depths if d.seeds]
    if seen:
        cells = "; ".join(f"depth {d.depth} {number(d.mean)} {interval(d.low, d.high)} ({d.seeds} seeds)" for d in seen)
        lines.append(f"Retrained, mean and {100 * (1 - ans.alpha):g}% interval: {cells}.")
    if ans.looks > 1:
        lines.append(
            f"Sequential design: {ans.looks} looks planned, each tested at alpha / {ans.looks} = "
            f"{number(ans.alpha / ans.looks)} (adjusted p-values are multiplied by {ans.looks})."
        )
    if s.width is not None:
        w = s.width
        step = f" To settle it: {w.next_step}." if w.next_step else ""
        lines.append(f"Deeper or wider at matched parameter counts: {WIDTH_WORDS[w.call]}. {w.reason}{step}")
    return lines + list(s.notes)


def tests_view(a: Analysis) -> View:
    """The depth answer's tests: superiority over every ordered pair (Holm) and TOST for every pair."""
    ans = a.answer.answer
    margin = number(ans.margin)
    names = {"superiority": f"beats by more than {margin}", "equivalence": f"within ±{margin}"}
    rows = [
        [f"{t.depths[0]} vs {t.depths[1]}", names.get(t.name, t.name), *_test_cells(t, ans.alpha)] for t in ans.tests
    ]
    return ["depths", "test", "difference", "t", "p", "adjusted p", "adjusted for", f"p < {number(ans.alpha)}"], rows


def width_tests_view(a: Analysis) -> View:
    """The width answer's tests over the bands' improvements (deeper minus wider, in the direction's sense)."""
    w = a.answer.width
    if w is None:
        return [], []
    margin = number(w.margin)
    names = {
        "deeper": f"deeper better by more than {margin}",
        "wider": f"wider better by more than {margin}",
        "equivalence": f"within ±{margin}",
    }
    rows = [[names.get(t.name, t.name), *_test_cells(t, w.alpha)] for t in w.tests]
    return ["test", "difference", "t", "p", "adjusted p", "adjusted for", f"p < {number(w.alpha)}"], rows


def _test_cells(t: TestResult, alpha: float) -> list[str]:
    return [
        number(t.difference),
        number(t.statistic, 3),
        number(t.p_value, 3),
        number(t.adjusted_p, 3),
        t.adjustment,
        "yes" if t.adjusted_p < alpha else "no",
    ]


def _budget(budget: Mapping[str, Any]) -> str:
    planned: Mapping[str, Any] = budget["planned"] if isinstance(budget.get("planned"), Mapping) else {}
    spent: Mapping[str, Any] = budget["spent"] if isinstance(budget.get("spent"), Mapping) else {}
    epochs = planned.get("kind") == "epochs"

    def amount(value: Any) -> str:
        if not isinstance(value, (int, float)):
            return "-"
        return f"{number(value)} epochs" if epochs else duration(value)

    parts = []
    if planned:
        parts.append(
            f"{planned.get('budget', '-')} planned: search {amount(planned.get('search'))}, "
            f"confirmation {amount(planned.get('confirmation'))}"
        )
    if spent:
        seconds, trained = spent.get("seconds"), spent.get("epochs")
        parts.append(
            f"spent {duration(seconds) if isinstance(seconds, (int, float)) else '-'}"
            + (f", {number(trained)} epochs" if isinstance(trained, (int, float)) else "")
        )
    return "; ".join(parts) or "-"


def _trial(number_: int | None) -> str:
    return "-" if number_ is None else f"#{number_}"
