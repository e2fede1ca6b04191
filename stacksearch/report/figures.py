"""The report's figures as PNG bytes, drawn with matplotlib's object API (Agg; pyplot untouched).

Each ``*_figure`` function takes the tables it draws and returns a ``Figure`` (or None when
there is nothing to draw); :func:`render_figures` turns the ones that apply into PNGs.

Example:
    >>> import optuna
    >>> from stacksearch.report.trials import collect
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(value=0.2, user_attrs={"depth": 1, "widths": [8], "n_params": 400}))
    >>> sorted(render_figures(collect(study)))
    ['heatmap', 'history', 'iso_params']
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stacksearch.report.confirmation import ConfirmationSummary
from stacksearch.report.curves import Curve, LearningCurves
from stacksearch.report.fmt import architecture, number
from stacksearch.report.importance import Importances
from stacksearch.report.iso import pareto_fronts
from stacksearch.report.tables import CostRow, DepthWidthRow, depth_width_bins, depth_width_table
from stacksearch.report.trials import StudyData

__all__ = [
    "render_figures",
    "heatmap_figure",
    "iso_params_figure",
    "cost_figure",
    "curves_figure",
    "history_figure",
    "parallel_figure",
    "importance_figure",
    "confirmation_figure",
    "png",
]

DPI = 100
MAX_LINES = 1000


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def render_figures(
    data: StudyData,
    *,
    depth_width: Sequence[DepthWidthRow] | None = None,
    cost: Sequence[CostRow] = (),
    curves: LearningCurves | None = None,
    importances: Importances | None = None,
    confirmation: ConfirmationSummary | None = None,
) -> dict[str, bytes]:
    """PNG bytes of every figure that has something to show, keyed by figure name.

    ``depth_width`` is the study's :func:`~stacksearch.report.depth_width_table` when already
    built (as :func:`~stacksearch.report.write_report` passes it); otherwise it is built here.
    """
    figures = {
        "heatmap": heatmap_figure(data, depth_width),
        "iso_params": iso_params_figure(data),
        "cost": cost_figure(data, cost) if cost else None,
        "learning_curves": curves_figure(data, curves) if curves else None,
        "history": history_figure(data),
        "parallel": parallel_figure(data),
        "importances": importance_figure(importances) if importances else None,
        "confirmation": confirmation_figure(data, confirmation) if confirmation else None,
    }
    return {name: png(figure) for name, figure in figures.items() if figure is not None}


def heatmap_figure(data: StudyData, rows: Sequence[DepthWidthRow] | None = None) -> Figure | None:
    """Depth x width: each cell's colour is its best score; text: best, median, completed/trials.

    ``rows`` is the study's :func:`~stacksearch.report.depth_width_table`, built here unless given.
    """
    if rows is None:
        rows = depth_width_table(data)
    scored = [r for r in rows if r.best_value is not None]
    if not scored:
        return None
    labels = depth_width_bins(data).labels
    depths = sorted({r.depth for r in rows})
    grid = np.full((len(depths), len(labels)), np.nan)
    figure = Figure(figsize=(max(5.0, 1.1 * len(labels) + 2), max(3.0, 0.8 * len(depths) + 1.5)))
    ax = figure.add_subplot()
    for r in rows:
        i, j = depths.index(r.depth), labels.index(r.width)
        if r.best_value is not None:
            grid[i, j] = r.best_value
        text = f"{number(r.best_value, 3)}\nmed {number(r.median_value, 3)}\n{r.n_complete}/{r.n_trials}"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color="black",
            bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0, "pad": 1},
        )
    image = ax.imshow(
        np.ma.masked_invalid(grid),
        aspect="auto",
        origin="lower",
        cmap="viridis_r" if data.minimize else "viridis",
        norm=_norm(grid),
    )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(depths)), [str(d) for d in depths])
    ax.set_xlabel("width (units per layer)")
    ax.set_ylabel("depth (LSTM layers)")
    ax.set_title(f"best validation {data.metric} (text: best, median, completed/trials)", fontsize=9)
    figure.colorbar(image, ax=ax, label=f"best {data.metric}")
    figure.tight_layout()
    return figure


def iso_params_figure(data: StudyData) -> Figure | None:
    """Score against parameter count (log axis), coloured by depth, with each depth's Pareto front."""
    fronts = pareto_fronts(data)
    if not fronts:
        return None
    figure = Figure(figsize=(7.5, 4.5))
    ax = figure.add_subplot()
    colors = _depth_colors(list(fronts))
    for depth, front in fronts.items():
        points = [r for r in data.scored if r.depth == depth and r.n_params]
        ax.scatter(
            np.array([r.n_params for r in points], dtype=float),
            np.array([r.value for r in points], dtype=float),
            s=10,
            alpha=0.35,
            color=colors[depth],
            linewidths=0,
        )
        ax.plot(
            [p.n_params for p in front],
            [p.value for p in front],
            marker="o",
            markersize=4,
            drawstyle="steps-post",
            color=colors[depth],
            label=f"depth {depth}",
        )
    if data.baseline is not None:
        ax.axhline(data.baseline, color="grey", linestyle="--", linewidth=1, label="trivial baseline")
    ax.set_xscale("log")
    _log_if_wide(ax, np.array([r.value for r in data.scored if r.n_params], dtype=float))
    ax.set_xlabel("parameters (log)")
    ax.set_ylabel(f"validation {data.metric}")
    ax.set_title("score versus size; lines: each depth's Pareto front", fontsize=9)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def cost_figure(data: StudyData, cost: Sequence[CostRow]) -> Figure:
    """Training seconds against parameters by depth, and trial outcomes per depth."""
    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    colors = _depth_colors([row.depth for row in cost])
    timed = [r for r in data.trials if r.depth is not None and r.n_params and r.seconds and not r.rejected]
    for row in cost:
        points = [r for r in timed if r.depth == row.depth]
        left.scatter(
            [r.n_params for r in points],
            [r.seconds for r in points],
            s=10,
            alpha=0.4,
            color=colors[row.depth],
            label=f"depth {row.depth}",
            linewidths=0,
        )
    if timed:
        left.set_xscale("log")
        left.set_yscale("log")
        left.legend(fontsize=8)
    left.set_xlabel("parameters (log)")
    left.set_ylabel("training seconds (log)")
    x = np.arange(len(cost))
    bottom = np.zeros(len(cost))
    for field, color in (
        ("n_complete", "tab:green"),
        ("n_pruned", "tab:orange"),
        ("n_rejected", "tab:grey"),
        ("n_failed", "tab:red"),
    ):
        counts = np.array([getattr(row, field) for row in cost], dtype=float)
        right.bar(x, counts, bottom=bottom, color=color, label=field[2:])
        bottom += counts
    right.set_xticks(x, [str(row.depth) for row in cost])
    right.set_xlabel("depth")
    right.set_ylabel("trials")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def curves_figure(data: StudyData, curves: LearningCurves) -> Figure | None:
    """Validation score per epoch: the top trials, and the best trial of each depth."""
    if not curves.top:
        return None
    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, 2, sharey=True)
    for ax, group, title in (
        (axes[0], curves.top, "top trials"),
        (axes[1], curves.best_per_depth, "best trial per depth"),
    ):
        for curve in group:
            ax.plot(curve.steps, curve.values, marker=".", markersize=3, label=_curve_label(curve))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    axes[0].set_ylabel(f"validation {data.metric}")
    _log_if_wide(axes[0], [v for curve in curves.top + curves.best_per_depth for v in curve.values])
    figure.tight_layout()
    return figure


def history_figure(data: StudyData) -> Figure | None:
    """Optimisation history: each completed trial's score and the best so far, by trial number."""
    scored = data.scored
    if not scored:
        return None
    figure = Figure(figsize=(7.5, 3.8))
    ax = figure.add_subplot()
    numbers = [r.number for r in scored]
    values = np.array([r.value for r in scored], dtype=float)
    best = np.minimum.accumulate(values) if data.minimize else np.maximum.accumulate(values)
    ax.scatter(numbers, values, s=8, alpha=0.4, color="tab:blue", label="completed trial", linewidths=0)
    ax.plot(numbers, best, color="tab:red", drawstyle="steps-post", label="best so far")
    _log_if_wide(ax, values)
    unfinished = len(data.trials) - len(scored)
    ax.set_title(f"optimisation history ({unfinished} trials not completed are not drawn)", fontsize=9)
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"validation {data.metric}")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def parallel_figure(data: StudyData) -> Figure | None:
    """Parallel coordinates of depth, width, learning rate and score, coloured by score rank.

    Draws at most :data:`MAX_LINES` trials, a random sample (seed 0) when there are more.
    """
    records = [r for r in data.scored if r.depth is not None and r.widths and r.learning_rate]
    if len(records) < 2:
        return None
    shown = len(records)
    if len(records) > MAX_LINES:
        keep = np.random.default_rng(0).choice(len(records), MAX_LINES, replace=False)
        records = [records[i] for i in sorted(keep)]
    columns = {
        "depth": np.array([r.depth for r in records], dtype=float),
        "width (log)": np.log10(np.array([r.width for r in records], dtype=float)),
        "learning rate (log)": np.log10(np.array([r.learning_rate for r in records], dtype=float)),
        f"{data.metric}": np.array([r.value for r in records], dtype=float),
    }
    scaled = np.column_stack([_unit(v) for v in columns.values()])
    score = columns[data.metric]
    rank = np.argsort(np.argsort(-score if data.minimize else score)) / max(len(score) - 1, 1)
    order = np.argsort(rank)
    segments = np.stack([np.column_stack([np.arange(len(columns)), row]) for row in scaled[order]])
    figure = Figure(figsize=(7.5, 4))
    ax = figure.add_subplot()
    lines = LineCollection(list(segments), cmap="viridis", norm=Normalize(0, 1), linewidths=0.7, alpha=0.6)
    lines.set_array(rank[order])
    ax.add_collection(lines)
    for i, (name, values) in enumerate(columns.items()):
        ax.axvline(i, color="black", linewidth=0.8)
        low, high = float(values.min()), float(values.max())
        if name.endswith("(log)"):
            low, high = 10**low, 10**high
        ax.text(i, -0.06, number(low, 3), ha="center", va="top", fontsize=7)
        ax.text(i, 1.06, number(high, 3), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(columns)), list(columns))
    ax.set_xlim(-0.2, len(columns) - 0.8)
    ax.set_ylim(-0.2, 1.2)
    ax.set_yticks([])
    sample = f"; {len(records)} of {shown} trials drawn at random" if shown > len(records) else ""
    ax.set_title(f"parallel coordinates (yellow: best ranked trials{sample})", fontsize=9)
    figure.tight_layout()
    return figure


def importance_figure(importances: Importances) -> Figure | None:
    """PED-ANOVA and fANOVA importances side by side."""
    if not importances.ped_anova:
        return None
    names = list(importances.ped_anova)[::-1]
    y = np.arange(len(names))
    figure = Figure(figsize=(7, 0.5 * len(names) + 1.5))
    ax = figure.add_subplot()
    ax.barh(y + 0.2, [importances.ped_anova[n] for n in names], height=0.4, label="PED-ANOVA")
    if importances.fanova is not None:
        ax.barh(y - 0.2, [importances.fanova.get(n, 0.0) for n in names], height=0.4, label="fANOVA")
    ax.set_yticks(y, names)
    ax.set_xlabel("importance (normalised)")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def confirmation_figure(data: StudyData, summary: ConfirmationSummary) -> Figure | None:
    """Each retrained architecture's seeds, mean and 95% interval."""
    rows = [r for r in summary.rows if r.mean is not None]
    if not rows:
        return None
    figure = Figure(figsize=(max(5.0, 1.4 * len(rows) + 1), 4))
    ax = figure.add_subplot()
    for i, row in enumerate(rows):
        assert row.mean is not None  # rows without scores were left out above
        ax.scatter([i] * len(row.values), row.values, color="grey", s=12, zorder=2)
        if row.low is not None and row.high is not None:
            ax.errorbar(
                i,
                row.mean,
                yerr=[[row.mean - row.low], [row.high - row.mean]],
                fmt="o",
                color="tab:blue",
                capsize=5,
                zorder=3,
            )
        else:
            ax.plot(i, row.mean, "o", color="tab:blue")
    ax.set_xticks(range(len(rows)), [architecture(r.depth, r.widths) for r in rows], fontsize=8)
    ax.set_ylabel(f"{data.metric} ({summary.seeds} seeds)")
    ax.set_title("confirmation: mean and 95% interval per retrained architecture", fontsize=9)
    figure.tight_layout()
    return figure


def _curve_label(curve: Curve) -> str:
    return f"#{curve.trial} {architecture(curve.depth, curve.widths)}: {number(curve.value, 3)}"


def _depth_colors(depths: Sequence[int]) -> dict[int, tuple]:
    palette = colormaps["tab10"]
    return {d: palette(i % 10) for i, d in enumerate(sorted(depths))}


def _norm(grid: np.ndarray) -> Normalize:
    finite = grid[np.isfinite(grid)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
        return LogNorm(finite.min(), finite.max())
    return Normalize(finite.min(), finite.max()) if finite.size else Normalize()


def _log_if_wide(ax: Axes, values: Sequence[float] | np.ndarray) -> None:
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    if array.size and array.min() > 0 and array.max() / array.min() > 100:
        ax.set_yscale("log")


def _unit(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return np.full_like(values, 0.5) if math.isclose(low, high) else (values - low) / (high - low)
