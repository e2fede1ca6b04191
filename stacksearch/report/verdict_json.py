"""``verdict.json``: the answer in machine-readable form (DESIGN.md, "The answer").

Fields: ``call``, ``winner``, ``compared_depths``, ``margin``, ``alpha``, ``depths`` (per depth its
``seeds``, ``mean``, ``interval``, with the ``scores`` and the ``dropped`` count), ``tests`` (with
p-values), ``reason``, ``next_step``, ``width_call`` (the matched-parameter answer, an object with
its own ``call``, or null) and ``budget`` (planned and spent, as given, or null). Every value is plain
JSON: no NaN or infinity (null instead), lists for tuples. :func:`verdict_record` makes the file's
object from a study's :class:`~stacksearch.report.study_answer.StudyAnswer`, adding ``metric``,
``direction``, ``margin_rule``, ``looks``, ``cheapest``, ``notes`` and, per depth, the retrained
architecture's search ``trial``, ``widths`` and ``n_params`` (and ``test_mean`` / ``test_scores``
where the confirmation stored test scores). Where the study searched several stack variants it adds
``variant_call``: ``call`` (``changes``, ``same`` or ``unknown``), ``changes`` (true, false or null),
``best`` (each variant's best depth at matched parameter counts), ``tied``, ``variants`` and
``sentence`` (:class:`~stacksearch.report.variants.VariantCall`); with one variant the key is absent.

Example:
    >>> import json
    >>> from stacksearch.stats.answer import depth_answer
    >>> a = depth_answer({1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, float("nan")]}, "minimize", margin=0.02)
    >>> v = verdict_json(a, None, {"planned": {"budget": "20m"}, "spent": {"seconds": 1100.0}})
    >>> v["call"], v["winner"], v["depths"][1]["seeds"], v["depths"][1]["scores"]
    ('depth_wins', 2, 2, [0.2, 0.21])
    >>> json.loads(json.dumps(v, allow_nan=False)) == v
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stacksearch.report.study_answer import StudyAnswer
from stacksearch.report.variants import VariantCall
from stacksearch.stats.answer import Answer, TestResult
from stacksearch.stats.width_answer import WidthAnswer

__all__ = ["verdict_json", "verdict_record", "json_safe", "FIELDS"]

FIELDS = (
    "call",
    "winner",
    "compared_depths",
    "margin",
    "alpha",
    "depths",
    "tests",
    "reason",
    "next_step",
    "width_call",
    "budget",
)


def verdict_json(answer: Answer, width: WidthAnswer | None, budget: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``verdict.json`` object of ``answer``, the width answer (or None) and the ``budget`` record.

    ``budget`` is passed through (made JSON-safe): ``{"planned": {...}, "spent": {...}}``, e.g. from
    :func:`stacksearch.search.phases.budget_record`; None (no budget) stays null.

    Example:
        >>> from stacksearch.stats.answer import depth_answer
        >>> v = verdict_json(depth_answer({2: [0.3, 0.4]}, "minimize", 0.01), None, {"planned": {}, "spent": {}})
        >>> v["call"], v["winner"], v["width_call"], v["next_step"]
        ('single_depth', None, None, None)
    """
    record = {
        "call": answer.call,
        "winner": answer.winner,
        "compared_depths": list(answer.compared_depths),
        "margin": answer.margin,
        "alpha": answer.alpha,
        "depths": [
            {
                "depth": d.depth,
                "seeds": d.seeds,
                "mean": d.mean,
                "interval": None if d.low is None else [d.low, d.high],
                "scores": list(d.scores),
                "dropped": d.dropped,
            }
            for d in answer.depths
        ],
        "tests": [_test(t) for t in answer.tests],
        "reason": answer.reason,
        "next_step": answer.next_step,
        "width_call": None if width is None else _width(width),
        "budget": None if budget is None else dict(budget),
    }
    return json_safe(record)


def verdict_record(result: StudyAnswer, variants: VariantCall | None = None) -> dict[str, Any]:
    """The whole ``verdict.json`` of a study: :func:`verdict_json` plus what the report says beside it.

    ``variants`` (:func:`~stacksearch.report.variants.variant_call`, None with one variant) adds ``variant_call``.

    Example:
        >>> import optuna
        >>> from stacksearch.report.study_answer import study_answer
        >>> study = optuna.create_study()
        >>> study.add_trial(optuna.trial.create_trial(value=0.3, user_attrs={"depth": 1, "n_params": 900}))
        >>> study.add_trial(optuna.trial.create_trial(value=0.2, user_attrs={"depth": 2, "n_params": 800}))
        >>> v = verdict_record(study_answer(study))
        >>> v["call"], v["compared_depths"], v["depths"][0]["seeds"], v["budget"], v["next_step"][:23]
        ('inconclusive', [1, 2], 0, None, 'run stacksearch confirm')
    """
    record = verdict_json(result.answer, result.width, result.budget)
    for entry in record["depths"]:
        row = result.retrained.get(entry["depth"])
        if row is None:
            continue
        entry.update(trial=row.trial, widths=list(row.widths), n_params=result.n_params.get(entry["depth"]))
        if row.test_values:
            entry.update(test_mean=row.test_mean, test_scores=list(row.test_values))
    record.update(
        metric=result.metric,
        direction=result.answer.direction,
        margin_rule=result.margin.rule,
        looks=result.answer.looks,
        cheapest=result.cheapest,
        notes=list(result.notes),
    )
    if variants is not None:
        record["variant_call"] = {
            "call": variants.call,
            "changes": variants.changes,
            "best": dict(variants.best),
            "tied": {name: list(depths) for name, depths in variants.tied.items()},
            "variants": list(variants.variants),
            "sentence": variants.sentence,
        }
    return json_safe(record)


def _test(test: TestResult) -> dict[str, Any]:
    return {
        "name": test.name,
        "depths": list(test.depths),
        "difference": test.difference,
        "statistic": test.statistic,
        "p_value": test.p_value,
        "adjusted_p": test.adjusted_p,
        "adjustment": test.adjustment,
    }


def _width(width: WidthAnswer) -> dict[str, Any]:
    return {
        "call": width.call,
        "margin": width.margin,
        "alpha": width.alpha,
        "bands": width.bands,
        "improvements": list(width.improvements),
        "mean": width.mean,
        "interval": None if width.low is None else [width.low, width.high],
        "tests": [{k: v for k, v in _test(t).items() if k != "depths"} for t in width.tests],
        "reason": width.reason,
        "next_step": width.next_step,
    }


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None, tuples as lists, numpy scalars as Python numbers.

    Example:
        >>> import numpy as np
        >>> json_safe({"a": (1.0, float("nan")), "b": np.float32(0.5), 3: np.array([1, 2])})
        {'a': [1.0, None], 'b': 0.5, '3': [1, 2]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    return value
