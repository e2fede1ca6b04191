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

from stacksearch.metrics import metric_bounds
from stacksearch.report.analysis import Analysis
from stacksearch.report.fmt import architecture, duration, interval, number
from stacksearch.report.stats import MIN_INTERVAL_POINTS

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
    "reasons_view",
    "confirmation_view",
    "confirmation_caption",
    "welch_view",
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
    if h.multi_objective:
        rows.append(["objectives", f"{h.metric} and parameter count: the best {h.metric} on the Pareto front is shown"])
    return ["", ""], rows


def depth_width_view(a: Analysis) -> View:
    """The depth x width table (the CSV's columns)."""
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
        for r in a.depth_width
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


def bands_view(a: Analysis) -> View:
    """Parameter bands by depth: each cell the depth's best score (completed trials); ``*`` marks the winner."""
    depths = sorted({r.depth for r in a.bands})
    bands = sorted({(r.params_low, r.params_high) for r in a.bands})
    cells = {(r.params_low, r.depth): r for r in a.bands}
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


def reasons_view(a: Analysis) -> View:
    """Trials that did not complete, by state and reason."""
    return ["state", "reason", "trials", "example"], [
        [r.state, r.reason, str(r.count), _trial(r.example_trial)] for r in a.reasons
    ]


def confirmation_view(a: Analysis) -> View:
    """Each retrained architecture's seeds, mean and 95% interval."""
    rows = [
        [
            str(r.depth),
            architecture(r.depth, r.widths),
            _trial(r.trial),
            str(len(r.values)),
            str(r.n_failed),
            number(r.mean),
            interval(r.low, r.high, r.clipped),
        ]
        for r in (a.confirmation.rows if a.confirmation else ())
    ]
    return ["depth", "architecture", "search trial", "seeds", "failed seeds", "mean", "95% interval"], rows


def welch_view(a: Analysis) -> View:
    """Welch tests of the best retrained depth against each other depth."""
    rows = [
        [
            f"{t.best_depth} vs {t.other_depth}",
            number(t.difference),
            number(t.statistic, 3),
            number(t.p_value, 3),
            "yes" if t.significant else "no",
        ]
        for t in (a.confirmation.tests if a.confirmation else ())
    ]
    return ["depths", "difference of means", "t", "p", "p < 0.05"], rows


def _trial(number_: int | None) -> str:
    return "-" if number_ is None else f"#{number_}"
