"""Windowed forecasting: one chronological series -> :class:`SequenceData`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stacksearch.data.sequence import SequenceData
from stacksearch.exceptions import ConfigError, DataError
from stacksearch.metrics import metric as get_metric

__all__ = ["split_bounds", "forecast_windows", "REGRESSION_METRICS"]

REGRESSION_METRICS = ("mse", "mae", "smape")


def split_bounds(n_rows: int, split: Sequence[float], need: int, what: str = "series") -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the train, validation (and test) parts, in time order.

    A part of zero fraction is left out (only the test part may be). ``need`` is the rows
    one window needs (``window + horizon``); a part with fewer rows raises :class:`DataError`.

    Example:
        >>> split_bounds(100, (0.7, 0.15, 0.15), need=10)
        [(0, 70), (70, 85), (85, 100)]
    """
    fractions = [float(f) for f in split]
    if (
        len(fractions) != 3
        or min(fractions) < 0
        or fractions[0] <= 0
        or fractions[1] <= 0
        or abs(sum(fractions) - 1) > 1e-6
    ):
        raise ConfigError(f"split {list(split)} must be three fractions (train, val, test) summing to 1")
    n_train = int(round(n_rows * fractions[0]))
    n_val = int(round(n_rows * fractions[1]))
    if fractions[2] > 0:
        bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, n_rows)]
    else:
        bounds = [(0, n_train), (n_train, n_rows)]
    smallest = min(f for f in fractions if f > 0)
    for (start, stop), part in zip(bounds, ("train", "validation", "test")):
        if stop - start < need:
            raise DataError(
                f"{what}: {n_rows} rows are too few: the {part} part gets {stop - start} rows but one "
                f"window needs window + horizon = {need}; give at least {int(np.ceil(need / smallest)) + 1} "
                "rows or a smaller window"
            )
    return bounds


def _windows(
    x: np.ndarray, y: np.ndarray, start: int, stop: int, window: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, targets and persistence forecasts of every window inside rows [start, stop)."""
    n_cases = stop - start - window - horizon + 1
    view = np.lib.stride_tricks.sliding_window_view(x[start : stop - horizon], window, axis=0)
    inputs = np.ascontiguousarray(view.transpose(0, 2, 1)[:n_cases])
    first = start + window
    targets = np.stack([y[first + h : first + h + n_cases] for h in range(horizon)], axis=1)
    last = y[first - 1 : first - 1 + n_cases]
    persistence = np.repeat(last[:, None, :], horizon, axis=1)
    flat = (n_cases,) if targets.shape[1] * targets.shape[2] == 1 else (n_cases, -1)
    return inputs, targets.reshape(flat), persistence.reshape(flat)


def forecast_windows(
    values: np.ndarray,
    targets: Sequence[int] = (0,),
    window: int = 48,
    horizon: int = 1,
    split: Sequence[float] = (0.7, 0.15, 0.15),
    *,
    metric: str = "mse",
    target_scaling: str = "standard",
    columns: Sequence[str] | None = None,
    name: str = "series",
    reference: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    where: str | None = None,
) -> SequenceData:
    """Turn a chronological ``(rows, columns)`` series into forecasting windows.

    Every column is an input; the ``targets`` columns are forecast for the next
    ``horizon`` rows after each ``window`` of rows (``y`` is ``(cases,)`` for one target
    and horizon 1, else ``(cases, horizon * targets)``, step-major). The rows are split
    chronologically into train/validation/test and every window (inputs and targets)
    lies inside one part, so no part sees another's rows. Inputs are standardised with
    the training rows' mean and standard deviation; targets likewise
    (``target_scaling="standard"``), or divided by their training mean (``"mean"``, which
    keeps a positive series positive, as sMAPE needs), or left as they are (``"none"``).
    The baseline is the persistence forecast (repeat the last observed value) on the
    validation windows; ``meta["baselines"]`` also holds the predict-the-training-mean
    score and the test scores. ``where`` names the source in error messages (default
    ``name``).

    Example:
        >>> series = np.sin(np.arange(200) / 5.0)[:, None]
        >>> data = forecast_windows(series, window=10, horizon=2)
        >>> data.x_train.shape, data.y_train.shape
        ((129, 10, 1), (129, 2))
    """
    where = where or name
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise DataError(f"{where}: a series must be (rows, columns), got shape {values.shape}")
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ConfigError(f"window {window!r} must be a positive integer")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon {horizon!r} must be a positive integer")
    if metric not in REGRESSION_METRICS:
        raise ConfigError(f"metric {metric!r} does not fit a forecast; choose one of {', '.join(REGRESSION_METRICS)}")
    targets = [int(t) for t in targets]
    columns = list(columns) if columns is not None else [f"c{i}" for i in range(values.shape[1])]
    if not np.all(np.isfinite(values)):
        raise DataError(f"{where}: the series has NaN or infinite values; fill or drop them first")
    bounds = split_bounds(len(values), split, window + horizon, where)

    train = values[bounds[0][0] : bounds[0][1]]
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std == 0] = 1.0
    x_all = (values - mean) / std
    if target_scaling == "standard":
        t_shift, t_scale = mean[targets], std[targets]
    elif target_scaling == "mean":
        t_shift, t_scale = np.zeros(len(targets)), train[:, targets].mean(axis=0)
        if np.any(train[:, targets] <= 0):
            raise DataError(f"{where}: target_scaling 'mean' needs a positive series")
    elif target_scaling == "none":
        t_shift, t_scale = np.zeros(len(targets)), np.ones(len(targets))
    else:
        raise ConfigError(f"target_scaling {target_scaling!r} is not one of standard, mean, none")
    y_all = (values[:, targets] - t_shift) / t_scale

    parts = [_windows(x_all, y_all, start, stop, window, horizon) for start, stop in bounds]
    scorer = get_metric(metric).score
    train_mean = np.tile(y_all[bounds[0][0] : bounds[0][1]].mean(axis=0), horizon).reshape(parts[0][1].shape[1:])
    baselines: dict[str, dict[str, float]] = {"persistence": {}, "mean": {}}
    for label, (_, y, persistence) in zip(("val", "test"), parts[1:]):
        baselines["persistence"][label] = scorer(y, persistence)
        baselines["mean"][label] = scorer(y, np.broadcast_to(train_mean, y.shape))
    arrays = [array for (x, y, _) in parts for array in (x, y)]  # train, val (and test): x, y each
    described = {
        "forecast": {
            "window": int(window),
            "horizon": int(horizon),
            "inputs": columns,
            "targets": [columns[t] for t in targets],
            "rows": {part: [int(a), int(b)] for part, (a, b) in zip(("train", "val", "test"), bounds)},
            "scaling": {
                "inputs": {"mean": mean.tolist(), "std": std.tolist()},
                "targets": {
                    "kind": target_scaling,
                    "shift": np.asarray(t_shift).tolist(),
                    "scale": np.asarray(t_scale).tolist(),
                },
            },
        },
        "baseline_kind": "persistence",
        "baselines": baselines,
        **(meta or {}),
    }
    return SequenceData(
        arrays[0],
        arrays[1],
        arrays[2],
        arrays[3],
        x_test=arrays[4] if len(arrays) > 4 else None,
        y_test=arrays[5] if len(arrays) > 4 else None,
        task="regression",
        metric=metric,
        name=name,
        baseline=baselines["persistence"]["val"],
        reference=reference,
        meta=described,
    )
