"""Sequence data: :class:`SequenceData`, validated arrays for training.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(40, 10, 2)).astype("float32")
    >>> y = x[:, :, 0].sum(axis=1)
    >>> data = SequenceData(x[:30], y[:30], x[30:], y[30:], task="regression")
    >>> data.n_features, data.n_outputs, data.metric
    (2, 1, 'mse')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stacksearch.exceptions import DataError
from stacksearch.metrics import metric as get_metric

__all__ = ["SequenceData", "TASKS"]

TASKS = ("regression", "classification", "sequence_labelling")
_DEFAULT_METRIC = {
    "regression": "mse",
    "classification": "accuracy",
    "sequence_labelling": "cross_entropy",
}


@dataclass
class SequenceData:
    """Train/validation(/test) sequences for one problem, validated on creation.

    ``x_*`` are ``(cases, time steps, features)``; ``y_*`` are ``(cases,)`` or
    ``(cases, outputs)`` for regression, integer class labels ``(cases,)`` for
    classification, and ``(cases, time steps)`` labels for sequence labelling.
    ``mask_value`` marks right-padded steps of variable-length input (the model then
    masks them). ``baseline`` is the trivial predictor's validation score; computed
    when not given.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    task: str = "regression"
    metric: str = ""  # empty: the task's default (mse, accuracy, cross_entropy)
    n_classes: int | None = None
    mask_value: float | None = None
    name: str = "user-data"
    baseline: float | None = None
    reference: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"task {self.task!r} is not one of {', '.join(TASKS)}")
        self.metric = self.metric or _DEFAULT_METRIC[self.task]
        get_metric(self.metric)
        if (self.x_test is None) != (self.y_test is None):
            raise DataError("give both x_test and y_test, or neither")
        for split in self._splits():
            self._check_split(split)
        widths = {getattr(self, f"x_{s}").shape[2] for s in self._splits()}
        if len(widths) != 1:
            raise DataError(f"x_train, x_val and x_test have different feature counts: {sorted(widths)}")
        if self.task != "regression":
            self._check_labels()
        if self.baseline is None:
            self.baseline = self.trivial_baseline()

    def _splits(self) -> list[str]:
        return ["train", "val"] + (["test"] if self.x_test is not None else [])

    def _check_split(self, split: str) -> None:
        x = np.asarray(getattr(self, f"x_{split}"))
        y = np.asarray(getattr(self, f"y_{split}"))
        if x.ndim != 3:
            raise DataError(
                f"x_{split} has shape {x.shape}; expected 3-D (cases, time steps, features): "
                "reshape a univariate series with x[..., None]"
            )
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"x_{split} is not numeric (dtype {x.dtype})")
        if len(x) == 0:
            raise DataError(f"x_{split} has no cases")
        if len(x) != len(y):
            raise DataError(f"x_{split} has {len(x)} cases but y_{split} has {len(y)}")
        if not np.all(np.isfinite(x)):
            raise DataError(f"x_{split} contains NaN or infinite values: impute or drop them first")
        if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
            raise DataError(f"y_{split} contains non-numeric, NaN or infinite values")
        if self.task == "sequence_labelling" and y.shape[:2] != x.shape[:2]:
            raise DataError(f"y_{split} has shape {y.shape}; sequence labelling needs one label per step {x.shape[:2]}")
        if self.task == "classification" and y.ndim != 1:
            raise DataError(f"y_{split} has shape {y.shape}; classification needs integer labels (cases,)")
        if self.task == "regression" and y.ndim not in (1, 2):
            raise DataError(f"y_{split} has shape {y.shape}; regression needs (cases,) or (cases, outputs)")
        setattr(self, f"x_{split}", x.astype(np.float32, copy=False))
        setattr(self, f"y_{split}", y.astype(np.float32 if self.task == "regression" else np.int32, copy=False))

    def _check_labels(self) -> None:
        for split in self._splits():
            y = getattr(self, f"y_{split}")
            raw = np.asarray(y)
            if np.any(raw < 0):
                raise DataError(f"y_{split} has negative class labels; labels must be 0..n_classes-1")
        observed = int(max(int(getattr(self, f"y_{s}").max()) for s in self._splits())) + 1
        if self.n_classes is None:
            self.n_classes = observed
        elif observed > self.n_classes:
            raise DataError(
                f"labels go up to {observed - 1} but n_classes is {self.n_classes}; labels must be 0..n_classes-1"
            )
        if self.n_classes < 2:
            raise DataError("classification needs at least two classes")

    @property
    def n_features(self) -> int:
        """Features per time step."""
        return int(self.x_train.shape[2])

    @property
    def n_outputs(self) -> int:
        """Units of the output layer: classes, or regression targets."""
        if self.task == "regression":
            return 1 if self.y_train.ndim == 1 else int(self.y_train.shape[1])
        assert self.n_classes is not None  # set for labels by __post_init__
        return int(self.n_classes)

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``, following the metric."""
        return get_metric(self.metric).direction

    def trivial_baseline(self) -> float:
        """Validation score of the trivial predictor: the training mean or the majority class."""
        scorer = get_metric(self.metric).score
        if self.task == "regression":
            pred = np.broadcast_to(self.y_train.mean(axis=0), self.y_val.shape)
            return scorer(self.y_val, pred)
        counts = np.bincount(self.y_train.ravel(), minlength=self.n_classes or 0).astype(np.float64)
        probs = np.broadcast_to(counts / counts.sum(), self.y_val.shape + (self.n_outputs,))
        return scorer(self.y_val, probs)

    def info(self) -> dict[str, Any]:
        """Plain-data description (name, task, metric, shapes, baseline) for study attributes."""
        shapes = {s: list(getattr(self, f"x_{s}").shape) for s in self._splits()}
        return {
            "name": self.name,
            "task": self.task,
            "metric": self.metric,
            "direction": self.direction,
            "n_classes": self.n_classes,
            "shapes": shapes,
            "baseline": self.baseline,
            "reference": self.reference,
            **self.meta,
        }
