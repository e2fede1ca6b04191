"""Builders of in-memory studies for the report tests (no training): finished trials with the contract attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

__all__ = ["COMPLETE", "FAIL", "PRUNED", "study_of", "trial"]

COMPLETE, PRUNED, FAIL = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL
_UNITS = IntDistribution(1, 1024, log=True)
_LR = FloatDistribution(1e-5, 1e-1, log=True)


def trial(
    depth: int,
    width: float | Sequence[int] | None,
    value: float | None = None,
    *,
    state: TrialState = COMPLETE,
    mode: str = "shared",
    n_params: int | None = 1000,
    lr: float = 1e-3,
    seconds: float | None = 10.0,
    curve: Sequence[float] | None = None,
    widths_attr: bool = True,
    **attrs: Any,
) -> FrozenTrial:
    """A finished stacksearch trial with the fixed parameter names and user attributes.

    ``mode``: ``shared`` (``units``), ``per_layer`` (``width`` is the list of widths,
    stored as ``units_i``) or ``iso_params`` (``target_params``). The ``widths`` user
    attribute is set unless ``widths_attr`` is False or ``width`` is None. ``state``
    defaults to COMPLETE, which needs ``value``.
    """
    widths = list(width) if isinstance(width, (list, tuple)) else ([width] * depth if width is not None else None)
    params: dict[str, Any] = {"depth": depth, "learning_rate": lr}
    dists: dict[str, Any] = {"depth": IntDistribution(1, 8), "learning_rate": _LR}
    if mode == "shared":
        params["units"], dists["units"] = widths[0], _UNITS  # type: ignore[index]
    elif mode == "per_layer":
        for i, w in enumerate(widths):  # type: ignore[arg-type]
            params[f"units_{i}"], dists[f"units_{i}"] = w, _UNITS
    else:
        params["target_params"], dists["target_params"] = n_params, IntDistribution(1, 10**8, log=True)
    user_attrs: dict[str, Any] = {"depth": depth, **attrs}
    if widths is not None and widths_attr:
        user_attrs["widths"] = widths
    if n_params is not None:
        user_attrs["n_params"] = n_params
    if seconds is not None:
        user_attrs["train_seconds"] = seconds
    curve = list(curve) if curve is not None else ([value] if value is not None else [])
    user_attrs.setdefault("epochs_trained", len(curve))
    return optuna.trial.create_trial(
        state=state,
        value=value if state == COMPLETE else None,
        params=params,
        distributions=dists,
        user_attrs=user_attrs,
        intermediate_values=dict(enumerate(curve)),
    )


def study_of(*trials: FrozenTrial, direction: str = "minimize", **attrs: Any) -> optuna.Study:
    """An in-memory study holding ``trials``, with ``attrs`` as study user attributes."""
    study = optuna.create_study(direction=direction)
    study.add_trials(trials)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study


CONFIRMATION = {
    "seeds": 3,
    "results": [
        {"depth": 1, "widths": [16], "trial": 1, "values": [0.50, 0.52, 0.51]},
        {"depth": 2, "widths": [16, 16], "trial": 5, "values": [0.20, 0.22, 0.21]},
    ],
}


def small_study(**attrs) -> optuna.Study:
    trials = [
        trial(
            1 + i % 2,
            16 * (1 + i % 3),
            0.5 - 0.2 * (i % 2) + 0.01 * i,
            n_params=1000 * (1 + i % 2) + 100 * i,
            lr=10 ** -(2 + i % 3),
            curve=[0.9, 0.7, 0.5 - 0.2 * (i % 2) + 0.01 * i],
        )
        for i in range(12)
    ]
    trials += [trial(1, 16, state=PRUNED, curve=[0.95]), trial(2, 16, state=FAIL, fail_reason="nan loss")]
    return study_of(*trials, metric="mse", baseline=0.6, **attrs)
