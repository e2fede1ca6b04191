"""Scoring metrics in numpy: names, directions and functions (no Keras).

Example:
    >>> import numpy as np
    >>> metric("mse").direction
    'minimize'
    >>> float(metric("mse").score(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from stacksearch.exceptions import ConfigError

__all__ = ["Metric", "metric", "metric_bounds", "METRIC_NAMES"]


@dataclass(frozen=True)
class Metric:
    """A validation/test metric: its name, optimisation direction and numpy scorer.

    ``score(y_true, y_pred)`` takes targets and model outputs (probabilities for
    classification) and returns one float. ``bounds`` is the range every score lies in
    (None: unbounded on that side).
    """

    name: str
    direction: str
    score: Callable[[np.ndarray, np.ndarray], float]
    keras_name: str
    bounds: tuple[float | None, float | None] = (0.0, None)


def _mse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64).reshape(np.shape(y)) - y) ** 2))


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(p, dtype=np.float64).reshape(np.shape(y)) - y)))


def _smape(y: np.ndarray, p: np.ndarray) -> float:
    p = np.asarray(p, dtype=np.float64).reshape(np.shape(y))
    denom = np.abs(y) + np.abs(p)
    ratio = np.where(denom == 0, 0.0, 2.0 * np.abs(p - y) / np.where(denom == 0, 1.0, denom))
    return float(100.0 * np.mean(ratio))


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.argmax(p, axis=-1) == np.asarray(y)))


def _cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1.0)
    y = np.asarray(y, dtype=np.int64)
    picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]
    return float(-np.mean(np.log(picked)))


_METRICS = {
    "mse": Metric("mse", "minimize", _mse, "mse"),
    "mae": Metric("mae", "minimize", _mae, "mae"),
    "smape": Metric("smape", "minimize", _smape, "smape", (0.0, 200.0)),
    "accuracy": Metric("accuracy", "maximize", _accuracy, "accuracy", (0.0, 1.0)),
    "cross_entropy": Metric("cross_entropy", "minimize", _cross_entropy, "loss"),
}
METRIC_NAMES: tuple[str, ...] = tuple(_METRICS)


def metric(name: str) -> Metric:
    """Return the :class:`Metric` called ``name`` (one of :data:`METRIC_NAMES`)."""
    try:
        return _METRICS[name]
    except KeyError:
        raise ConfigError(
            f"unknown metric {name!r}; choose one of {', '.join(METRIC_NAMES)}"
        ) from None


def metric_bounds(name: str) -> tuple[float | None, float | None]:
    """The range scores of metric ``name`` lie in; ``(None, None)`` for a name stacksearch does not know.

    Example:
        >>> metric_bounds("mse"), metric_bounds("accuracy"), metric_bounds("value")
        ((0.0, None), (0.0, 1.0), (None, None))
    """
    return _METRICS[name].bounds if name in _METRICS else (None, None)
