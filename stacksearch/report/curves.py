"""Learning curves from the trials' intermediate values (validation score per epoch).

Example:
    >>> import optuna
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(
    ...     value=0.2, user_attrs={"depth": 1, "widths": [8]}, intermediate_values={0: 0.5, 1: 0.2}))
    >>> learning_curves(study).top[0].values
    (0.5, 0.2)
"""

from __future__ import annotations

from dataclasses import dataclass

from stacksearch.report.trials import StudyLike, TrialRecord, as_data

__all__ = ["Curve", "LearningCurves", "learning_curves"]


@dataclass(frozen=True)
class Curve:
    """One completed trial's validation score per epoch (``steps`` start at 0)."""

    trial: int
    depth: int | None
    widths: tuple[float, ...] | None
    value: float
    steps: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class LearningCurves:
    """The ``top`` best trials' curves, best first, and each depth's best trial's curve."""

    top: tuple[Curve, ...]
    best_per_depth: tuple[Curve, ...]


def learning_curves(study: StudyLike, top: int = 5) -> LearningCurves:
    """Curves of the ``top`` best completed trials and of the best completed trial per depth.

    Only trials that reported intermediate values are drawn from.
    """
    data = as_data(study)
    sign = 1.0 if data.minimize else -1.0
    ranked = sorted(
        (r for r in data.scored if r.trial.intermediate_values),
        key=lambda r: (sign * r.score, r.number),
    )
    per_depth: dict[int, TrialRecord] = {}
    for record in ranked:
        if record.depth is not None:
            per_depth.setdefault(record.depth, record)
    return LearningCurves(
        top=tuple(_curve(r) for r in ranked[:top]),
        best_per_depth=tuple(_curve(per_depth[d]) for d in sorted(per_depth)),
    )


def _curve(record: TrialRecord) -> Curve:
    steps = sorted(record.trial.intermediate_values)
    return Curve(
        trial=record.number,
        depth=record.depth,
        widths=record.widths,
        value=record.score,
        steps=tuple(steps),
        values=tuple(record.trial.intermediate_values[s] for s in steps),
    )
