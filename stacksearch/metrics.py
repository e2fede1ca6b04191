"""Scoring metrics in numpy: names, directions, Keras log keys and functions (no Keras);
and the one definition of "score a is better than score b" for a direction.

Example:
    >>> import numpy as np
    >>> metric("mse").direction, metric("cross_entropy").monitor
    ('minimize', 'val_loss')
    >>> float(metric("mse").score(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
    >>> better(0.9, 0.8, "maximize"), best_of([0.3, 0.1, 0.2], "minimize")
    (True, 0.1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, Union

import numpy as np

from stacksearch.exceptions import ConfigError

if TYPE_CHECKING:
    from optuna.study import StudyDirection

__all__ = [
    "Metric",
    "metric",
    "METRIC_NAMES",
    "metric_bounds",
    "Direction",
    "maximizing",
    "better",
    "best_of",
    "ranked",
]

Direction = Union[str, "StudyDirection"]
T = TypeVar("T")


@dataclass(frozen=True)
class Metric:
    """A validation/test metric: its name, optimisation direction and numpy scorer.

    ``score(y_true, y_pred)`` takes targets and model outputs (probabilities for
    classification) and returns one float. ``keras_name`` is the key Keras logs it under:
    the metric's own name, or ``"loss"`` when the training loss is the metric. ``bounds`` is the range every
    score lies in (None: unbounded on that side).
    """

    name: str
    direction: str
    score: Callable[[np.ndarray, np.ndarray], float]
    keras_name: str
    bounds: tuple[float | None, float | None] = (0.0, None)

    @property
    def is_loss(self) -> bool:
        """True when the training loss is the metric (no separate Keras metric is compiled)."""
        return self.keras_name == "loss"

    @property
    def monitor(self) -> str:
        """The Keras log key of the validation score, ``val_<keras_name>``."""
        return f"val_{self.keras_name}"


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
        raise ConfigError(f"unknown metric {name!r}; choose one of {', '.join(METRIC_NAMES)}") from None


def metric_bounds(name: str) -> tuple[float | None, float | None]:
    """The range scores of metric ``name`` lie in; ``(None, None)`` for a name stacksearch does not know.

    Example:
        >>> metric_bounds("mse"), metric_bounds("accuracy"), metric_bounds("value")
        ((0.0, None), (0.0, 1.0), (None, None))
    """
    return _METRICS[name].bounds if name in _METRICS else (None, None)


def maximizing(direction: Direction) -> bool:
    """True for ``"maximize"`` or ``StudyDirection.MAXIMIZE``, False for ``"minimize"``/``MINIMIZE``.

    Example:
        >>> maximizing("maximize")
        True
    """
    name = str(getattr(direction, "name", direction)).lower()
    if name not in ("minimize", "maximize"):
        raise ConfigError(f"unknown direction {direction!r}; choose minimize or maximize")
    return name == "maximize"


def better(a: float, b: float, direction: Direction) -> bool:
    """True when score ``a`` is strictly better than ``b`` for ``direction``.

    Example:
        >>> better(0.1, 0.2, "minimize"), better(0.2, 0.2, "minimize")
        (True, False)
    """
    return a > b if maximizing(direction) else a < b


def _itself(item: Any) -> Any:
    return item


def best_of(items: Iterable[T], direction: Direction, key: Callable[[T], Any] | None = None) -> T | None:
    """The best of ``items`` by ``key`` (the item itself by default), the first one on ties; None when empty.

    Example:
        >>> best_of([("a", 0.2), ("b", 0.5), ("c", 0.5)], "maximize", key=lambda item: item[1])
        ('b', 0.5)
    """
    pick = max if maximizing(direction) else min
    return pick(items, key=key or _itself, default=None)


def ranked(items: Iterable[T], direction: Direction, key: Callable[[T], Any] | None = None) -> list[T]:
    """``items`` best first by ``key`` (the item itself by default); ties keep their order.

    Example:
        >>> ranked([0.2, 0.5, 0.1], "maximize")
        [0.5, 0.2, 0.1]
    """
    return sorted(items, key=key or _itself, reverse=maximizing(direction))
