"""Sequence data: :class:`SequenceData`, validated arrays for training, and loaders.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stacksearch.exceptions import ConfigError, DataError
from stacksearch.metrics import metric as get_metric

if TYPE_CHECKING:
    from stacksearch.config import DataSection

__all__ = [
    "SequenceData",
    "TASKS",
    "load_npz",
    "load_csv",
    "load_data_section",
    "forecast_windows",
    "split_bounds",
    "stratified_split",
    "pad_sequences",
]

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
    metric: str | None = None
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
            raise DataError(
                f"y_{split} has shape {y.shape}; sequence labelling needs one label per step {x.shape[:2]}"
            )
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
                f"labels go up to {observed - 1} but n_classes is {self.n_classes}; "
                "labels must be 0..n_classes-1"
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
        counts = np.bincount(self.y_train.ravel(), minlength=self.n_classes).astype(np.float64)
        probs = np.broadcast_to(counts / counts.sum(), self.y_val.shape + (self.n_classes,))
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


def load_npz(path: str | Path, task: str = "regression", **kwargs: Any) -> SequenceData:
    """Load ``x_train, y_train, x_val, y_val`` (and optional ``x_test, y_test``) from ``.npz``.

    Example:
        >>> data = load_npz("mydata.npz", task="classification")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found; check data.path in the study file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npz archive ({err})") from None
    needed = ["x_train", "y_train", "x_val", "y_val"]
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise DataError(
            f"{path}: missing arrays {', '.join(missing)}; found {', '.join(sorted(arrays)) or 'none'}"
        )
    extra = {k: arrays[k] for k in ("x_test", "y_test") if k in arrays}
    try:
        return SequenceData(**{k: arrays[k] for k in needed}, **extra, task=task, name=path.stem, **kwargs)
    except DataError as err:
        raise DataError(f"{path}: {err}") from None


# --------------------------------------------------------------------------------------
# Classification helpers


def stratified_split(labels: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, held_out)`` with ``fraction`` of every class held out, chosen by ``seed``.

    Each class with at least two cases gives ``round(fraction * count)`` cases, at least
    one and never all of them. Both index arrays are sorted.

    Example:
        >>> keep, held = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25)
        >>> len(keep), len(held), sorted(np.array([0, 0, 0, 0, 1, 1, 1, 1])[held].tolist())
        (6, 2, [0, 1])
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"val_fraction {fraction!r} must be between 0 and 1 (exclusive)")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        count = min(max(int(np.floor(fraction * len(members) + 0.5)), 1), len(members) - 1)
        held.append(rng.permutation(members)[:count])
    held_out = np.sort(np.concatenate(held)) if held else np.array([], dtype=np.int64)
    keep = np.setdiff1d(np.arange(len(labels)), held_out)
    return keep, held_out


def pad_sequences(sequences: Sequence[np.ndarray], length: int | None = None, value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``(steps, features)`` arrays into ``(cases, length, features)``; also the lengths.

    Example:
        >>> x, lengths = pad_sequences([np.ones((2, 3)), np.ones((4, 3))])
        >>> x.shape, lengths.tolist(), float(x[0, 3, 0])
        ((2, 4, 3), [2, 4], 0.0)
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    length = int(lengths.max()) if length is None else int(length)
    if lengths.max() > length:
        raise DataError(f"a sequence has {lengths.max()} steps, more than the padded length {length}")
    n_features = int(np.shape(sequences[0])[1])
    out = np.full((len(sequences), length, n_features), value, dtype=np.float64)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
    return out, lengths


# --------------------------------------------------------------------------------------
# Windowed forecasting: one chronological series -> SequenceData


_REGRESSION_METRICS = ("mse", "mae", "smape")


def split_bounds(
    n_rows: int, split: Sequence[float], need: int, what: str = "series"
) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the train, validation (and test) parts, in time order.

    A part of zero fraction is left out (only the test part may be). ``need`` is the rows
    one window needs (``window + horizon``); a part with fewer rows raises :class:`DataError`.

    Example:
        >>> split_bounds(100, (0.7, 0.15, 0.15), need=10)
        [(0, 70), (70, 85), (85, 100)]
    """
    fractions = [float(f) for f in split]
    if len(fractions) != 3 or min(fractions) < 0 or fractions[0] <= 0 or fractions[1] <= 0 or abs(sum(fractions) - 1) > 1e-6:
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
    if metric not in _REGRESSION_METRICS:
        raise ConfigError(f"metric {metric!r} does not fit a forecast; choose one of {', '.join(_REGRESSION_METRICS)}")
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
    arrays = [array for (x, y, _) in parts for array in (x, y)]
    described = {
        "forecast": {
            "window": int(window),
            "horizon": int(horizon),
            "inputs": columns,
            "targets": [columns[t] for t in targets],
            "rows": {part: [int(a), int(b)] for part, (a, b) in zip(("train", "val", "test"), bounds)},
            "scaling": {
                "inputs": {"mean": mean.tolist(), "std": std.tolist()},
                "targets": {"kind": target_scaling, "shift": np.asarray(t_shift).tolist(), "scale": np.asarray(t_scale).tolist()},
            },
        },
        "baseline_kind": "persistence",
        "baselines": baselines,
        **(meta or {}),
    }
    return SequenceData(
        *arrays, task="regression", metric=metric, name=name,
        baseline=baselines["persistence"]["val"], reference=reference, meta=described,
    )


# --------------------------------------------------------------------------------------
# CSV time series


def _csv_column(frame: Any, column: str, path: Path) -> np.ndarray:
    """One column as float64, or a :class:`DataError` naming the file, column and line."""
    import pandas as pd

    raw = frame[column].astype(str).str.strip()
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    for i in np.flatnonzero(~np.isfinite(numbers)):
        line = int(i) + 2  # the header is line 1
        text = raw.iloc[i]
        if text == "" or text.lower() in ("nan", "na", "n/a", "null", "none"):
            raise DataError(
                f"{path}: column {column!r} has a missing value (gap) at line {line}; "
                "fill or interpolate it before training"
            )
        if np.isinf(numbers[i]):
            raise DataError(f"{path}: column {column!r} has an infinite value at line {line}")
        raise DataError(f"{path}: column {column!r} has a non-numeric value {text!r} at line {line}")
    return numbers


def _check_time(frame: Any, column: str, path: Path) -> None:
    """Raise :class:`DataError` unless ``column`` increases in regular steps (no gaps)."""
    import pandas as pd

    raw = frame[column].astype(str).str.strip()
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        times: Any = numeric.to_numpy(dtype=np.float64)
    else:
        times = pd.Series(pd.NaT, index=raw.index)
        for kwargs in ({}, {"format": "mixed"}):  # one inferred format first: fast on big files
            try:
                times = pd.to_datetime(raw, errors="coerce", **kwargs)
            except (ValueError, TypeError):
                continue
            if times.notna().all():
                break
        bad = np.flatnonzero(times.isna().to_numpy())
        if len(bad):
            raise DataError(
                f"{path}: column {column!r} (data.time_column) has {raw.iloc[bad[0]]!r} at line "
                f"{bad[0] + 2}, neither a number nor a date"
            )
        times = pd.DatetimeIndex(times)
    steps = np.diff(np.asarray(times))
    zero = steps.dtype.type(0)
    backwards = np.flatnonzero(steps <= zero)
    if len(backwards):
        i = int(backwards[0]) + 1
        raise DataError(
            f"{path}: column {column!r} (data.time_column) is not strictly increasing at line {i + 2} "
            f"({raw.iloc[i - 1]} then {raw.iloc[i]}); sort the file and drop duplicate times"
        )
    if len(times) < 3:
        return
    if isinstance(times, pd.DatetimeIndex):
        freq = pd.infer_freq(times[: min(len(times), 7)])
        if freq is not None:
            expected = pd.date_range(times[0], periods=len(times), freq=freq)
            off = np.flatnonzero(expected != times)
        else:
            step = pd.Series(steps).mode().iloc[0]
            off = np.flatnonzero(steps != step) + 1
        kind = f"step {freq}" if freq is not None else "spacing"
    else:
        step = float(np.min(steps))
        off = np.flatnonzero(~np.isclose(steps, step, rtol=1e-6, atol=0.0)) + 1
        kind = f"step {step:g}"
    if len(off):
        i = int(off[0])
        raise DataError(
            f"{path}: column {column!r} (data.time_column) has a gap or irregular {kind} at line "
            f"{i + 2} ({raw.iloc[i - 1]} then {raw.iloc[i]}); resample to a regular grid and fill gaps"
        )


def load_csv(
    path: str | Path,
    target: str | Sequence[str],
    features: Sequence[str] | None = None,
    window: int = 48,
    horizon: int = 1,
    split: Sequence[float] = (0.7, 0.15, 0.15),
    time_column: str | None = None,
    metric: str = "mse",
) -> SequenceData:
    """Load a CSV time series (one row per time step, oldest first) as forecasting windows.

    ``target`` names the column(s) to forecast; they and ``features`` are the inputs of
    each ``window`` of rows, and the targets of the next ``horizon`` rows are the outputs.
    The rows are split chronologically (``split``: train, validation, test fractions), no
    window crosses a split boundary, and scaling uses the training rows only. With
    ``time_column`` the rows must be in time order at a regular step. Missing values,
    non-numeric cells, unknown columns and too few rows raise :class:`DataError` naming
    the file, column and line.

    Example:
        >>> data = load_csv("load.csv", target="kw", features=["temp"], window=24)  # doctest: +SKIP
        >>> data.x_train.shape[1:]  # doctest: +SKIP
        (24, 2)
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: CSV file not found; check data.csv in the study file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the CSV file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: not a readable CSV file ({first})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    targets = [target] if isinstance(target, str) else list(target)
    if not targets:
        raise ConfigError("data.target: name at least one column to forecast")
    extra = [f for f in (features or []) if f not in targets]
    wanted = [("data.target", c) for c in targets] + [("data.features", c) for c in extra]
    if time_column is not None:
        wanted.append(("data.time_column", time_column))
    for key, column in wanted:
        if column not in frame.columns:
            import difflib

            close = difflib.get_close_matches(column, frame.columns, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataError(
                f"{path}: column {column!r} ({key}) not found; {hint}columns: {', '.join(frame.columns)}"
            )
    if time_column is not None:
        if time_column in targets or time_column in extra:
            raise ConfigError(f"data.time_column {time_column!r} cannot also be a target or feature")
        _check_time(frame, time_column, path)
    if metric not in _REGRESSION_METRICS:
        raise ConfigError(f"data.metric {metric!r} does not fit a forecast; choose one of {', '.join(_REGRESSION_METRICS)}")
    if len(frame) == 0:
        raise DataError(f"{path}: the CSV file has a header but no rows")
    columns = targets + extra
    values = np.column_stack([_csv_column(frame, c, path) for c in columns])
    return forecast_windows(
        values, targets=range(len(targets)), window=window, horizon=horizon, split=split,
        metric=metric, columns=columns, name=path.stem, meta={"source": str(path)}, where=str(path),
    )


def _resolve(path: str, base_dir: str | Path) -> Path:
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else Path(base_dir) / resolved


def load_data_section(section: "DataSection", base_dir: str | Path) -> SequenceData:
    """Turn a study file's ``data:`` section into :class:`SequenceData`.

    Relative paths resolve against ``base_dir`` (the study file's folder).

    Example:
        >>> from stacksearch.config import DataSection
        >>> section = DataSection(csv="load.csv", target="kw", window=24)
        >>> data = load_data_section(section, "studies")  # doctest: +SKIP
    """
    if section.path is not None:
        return load_npz(_resolve(section.path, base_dir), task=section.task, metric=section.metric)
    if section.csv is None or section.target is None:
        raise ConfigError("data: give data.path (.npz) or data.csv with data.target")
    return load_csv(
        _resolve(section.csv, base_dir), target=section.target, features=section.features,
        window=section.window, horizon=section.horizon, split=section.split,
        time_column=section.time_column, metric=section.metric or "mse",
    )
