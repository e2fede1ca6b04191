"""``summary.md``: the headline, verdict and key tables as Markdown, linking the PNG figures.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> from stacksearch.report.analysis import analyse
    >>> study = optuna.create_study(study_name="demo")
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 1, "units": 16}, value=0.4,
    ...     distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> render_markdown(analyse(study), ["heatmap.png"]).splitlines()[0]
    '# demo: depth versus width'
"""

from __future__ import annotations

from collections.abc import Sequence

from stacksearch.report import views
from stacksearch.report.analysis import Analysis
from stacksearch.report.views import View

__all__ = ["render_markdown"]


def render_markdown(analysis: Analysis, figure_files: Sequence[str]) -> str:
    """Markdown for ``analysis``; ``figure_files`` are PNG file names beside it."""
    a = analysis
    parts = [
        f"# {a.headline.study_name}: depth versus width",
        f"**{a.answer.line}**",
        "\n".join(f"- {line}" for line in views.answer_lines(a)),
        _table(views.headline_view(a)),
        "## Evidence from the search",
        a.verdict.sentence,
        "\n".join(f"- {line}" for line in a.verdict.lines),
        "## Per depth",
        _table(views.depths_view(a)),
        f"_{views.depths_caption(a)}_",
        "## Matched parameter counts (best score per depth; * = band winner)",
        _table(views.bands_view(a)),
        *_per_variant(a),
        _table(views.width_tests_view(a)) if a.answer.width is not None and a.answer.width.tests else "",
        "## Importance",
        _table(views.importance_view(a)),
        "## Cost",
        _table(views.cost_view(a)),
        views.limit_sentence(a) or "",
    ]
    if a.confirmation is not None:
        parts += [
            "## Confirmation",
            _table(views.confirmation_view(a)),
            f"_{views.confirmation_caption(a)}_",
            _table(views.tests_view(a)) if a.answer.answer.tests else "",
        ]
    parts += ["## Figures", "\n".join(f"![{name[:-4]}]({name})" for name in figure_files)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _per_variant(a: Analysis) -> list[str]:
    """One section per stack variant (none with one variant): its depth x width and band tables, then the call."""
    parts = []
    for t in a.variants:
        parts += [
            f"### Variant: {t.variant}",
            _table(views.depth_width_view(a, t.depth_width)),
            _table(views.bands_view(a, t.bands)),
        ]
    if a.variant_call is not None:
        parts.append(a.variant_call.sentence)
    return parts


def _table(view: View) -> str:
    headers, rows = view
    if not rows:
        return "_nothing to show_"
    lines = [_row(headers), _row(["---"] * len(headers))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
