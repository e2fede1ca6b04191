"""``report.html``: one self-contained page (inline CSS, PNGs as base64 data URIs, no scripts).

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> from stacksearch.report.analysis import analyse
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={"depth": 1, "units": 16}, value=0.4,
    ...     distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> page = render_html(analyse(study), {})
    >>> page.startswith("<!DOCTYPE html>") and "http" not in page
    True
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from stacksearch.report import views
from stacksearch.report.analysis import Analysis
from stacksearch.report.views import View

__all__ = ["render_html"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
.verdict { background: #f4f7fb; border-left: 4px solid #3b6fb6; padding: 0.6em 1em; }
.verdict .summary { font-weight: 600; font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
table.kv td:last-child { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .note { color: #555; font-size: 0.9em; }
"""


def render_html(analysis: Analysis, figures: Mapping[str, bytes]) -> str:
    """The whole page for ``analysis``, with ``figures`` (name -> PNG bytes) inlined."""
    a, f = analysis, figures
    h = a.headline
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(h.study_name)}: depth versus width</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(h.study_name)}: how deep, how wide?</h1>",
        '<div class="verdict">',
        f'<p class="summary">{escape(a.answer.line)}</p>',
        "<ul>",
        *(f"<li>{escape(line)}</li>" for line in views.answer_lines(a)),
        "</ul></div>",
        f'<p class="sub">stacksearch report; validation {escape(h.metric)}</p>',
        _table(views.headline_view(a), css="kv", header=False),
        "<h2>Evidence from the search</h2>",
        f"<p>{escape(a.verdict.sentence)}</p>",
        "<ul>",
        *(f"<li>{escape(line)}</li>" for line in a.verdict.lines),
        "</ul>",
        "<h2>Depth &times; width</h2>",
        _figure(f, "heatmap", "Best score per depth and width; text: best, median, completed/finished trials."),
        _table(views.depth_width_view(a)),
        *_per_variant(a, "depth_width"),
        "<h3>Per depth</h3>",
        _table(views.depths_view(a)),
        f'<p class="note">{escape(views.depths_caption(a))}</p>',
        "<h2>Matched parameter counts</h2>",
        _figure(f, "iso_params", "Score versus parameters, by depth; lines: each depth's Pareto front."),
        "<p>Best score per depth within factor-2 parameter bands (completed trials in brackets; "
        "* marks the band's winner when it holds two or more depths).</p>",
        _table(views.bands_view(a)),
        *_per_variant(a, "bands"),
        _width_tests(a),
        "<h3>Pareto front (all depths)</h3>",
        _table(views.front_view(a)),
        "<h2>Importance: depth, width, learning rate</h2>",
        _figure(f, "importances", "PED-ANOVA and fANOVA importances of the derived parameters."),
        _table(views.importance_view(a)),
        _notes(a.importances.notes + _dropped(a)),
        "<h2>Cost</h2>",
        _figure(f, "cost", "Training seconds versus parameters; trial outcomes per depth."),
        _table(views.cost_view(a)),
        _paragraph(views.limit_sentence(a)),
        "<h2>Learning curves</h2>",
        _figure(f, "learning_curves", "Validation score per epoch (intermediate values)."),
        "<h2>Search</h2>",
        _figure(f, "history", "Optimisation history."),
        _figure(f, "parallel", "Parallel coordinates."),
        "<h2>Confirmation</h2>",
        *_confirmation(a, f),
        "<h2>Trials that did not complete</h2>",
        _table(views.reasons_view(a)) if a.reasons else "<p>Every finished trial completed.</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _confirmation(a: Analysis, figures: Mapping[str, bytes]) -> list[str]:
    if a.confirmation is None:
        return [
            f"<p>Not run: the verdict is {escape(a.verdict.confirmation)}. "
            "<code>stacksearch confirm</code> (or <code>stacksearch run</code> with confirm on) retrains the "
            "best architecture of each depth with several seeds and stores the results in the study.</p>"
        ]
    return [
        _figure(figures, "confirmation", "Retrained architectures: seeds, mean and 95% interval."),
        _table(views.confirmation_view(a)),
        f'<p class="note">{escape(views.confirmation_caption(a))}</p>',
        *(["<h3>Tests of the answer</h3>", _table(views.tests_view(a))] if a.answer.answer.tests else []),
    ]


def _per_variant(a: Analysis, table: str) -> list[str]:
    """One section per stack variant (none with one variant): its own depth x width or band table."""
    parts = []
    for t in a.variants:
        view = views.depth_width_view(a, t.depth_width) if table == "depth_width" else views.bands_view(a, t.bands)
        parts += [f"<h3>Variant: {escape(t.variant)}</h3>", _table(view)]
    if table == "bands" and a.variant_call is not None:
        parts.append(f"<p>{escape(a.variant_call.sentence)}</p>")
    return parts


def _width_tests(a: Analysis) -> str:
    width = a.answer.width
    if width is None or not width.tests:
        return ""
    return (
        f"<p>Deeper versus wider over {width.bands} bands (the best of each band's deepest depth against its "
        "shallowest):</p>" + _table(views.width_tests_view(a))
    )


def _dropped(a: Analysis) -> tuple[str, ...]:
    dropped = a.importances.dropped
    return (f"Not ranked because they did not vary: {', '.join(dropped)}.",) if dropped else ()


def _table(view: View, css: str = "", header: bool = True) -> str:
    headers, rows = view
    if not rows:
        return '<p class="note">Nothing to show.</p>'
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}">{head}{body}</table>' if css else f"<table>{head}{body}</table>"


def _figure(figures: Mapping[str, bytes], name: str, caption: str) -> str:
    if name not in figures:
        return ""
    data = base64.b64encode(figures[name]).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _notes(notes: tuple[str, ...]) -> str:
    return "".join(f'<p class="note">{escape(n)}</p>' for n in notes)


def _paragraph(text: str | None) -> str:
    return f"<p>{escape(text)}</p>" if text else ""
