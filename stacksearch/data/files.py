"""The user's data files: ``.npz`` arrays and CSV time series -> :class:`SequenceData`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stacksearch.data.forecast import REGRESSION_METRICS, forecast_windows
from stacksearch.data.sequence import SequenceData
from stacksearch.exceptions import ConfigError, DataError

__all__ = ["load_npz", "load_csv"]


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
        raise DataError(f"{path}: missing arrays {', '.join(missing)}; found {', '.join(sorted(arrays)) or 'none'}")
    extra = {k: arrays[k] for k in ("x_test", "y_test") if k in arrays}
    try:
        return SequenceData(**{k: arrays[k] for k in needed}, **extra, task=task, name=path.stem, **kwargs)
    except DataError as err:
        raise DataError(f"{path}: {err}") from None


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
            raise DataError(f"{path}: column {column!r} ({key}) not found; {hint}columns: {', '.join(frame.columns)}")
    if time_column is not None:
        if time_column in targets or time_column in extra:
            raise ConfigError(f"data.time_column {time_column!r} cannot also be a target or feature")
        _check_time(frame, time_column, path)
    if metric not in REGRESSION_METRICS:
        raise ConfigError(
            f"data.metric {metric!r} does not fit a forecast; choose one of {', '.join(REGRESSION_METRICS)}"
        )
    if len(frame) == 0:
        raise DataError(f"{path}: the CSV file has a header but no rows")
    columns = targets + extra
    values = np.column_stack([_csv_column(frame, c, path) for c in columns])
    return forecast_windows(
        values,
        targets=range(len(targets)),
        window=window,
        horizon=horizon,
        split=split,
        metric=metric,
        columns=columns,
        name=path.stem,
        meta={"source": str(path)},
        where=str(path),
    )
