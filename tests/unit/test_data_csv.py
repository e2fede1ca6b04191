"""CSV time series -> forecasting windows: shapes, chronology, train-only scaling, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stacksearch.config import DataSection, validate_config
from stacksearch.data import forecast_windows, load_csv, split_bounds
from stacksearch.exceptions import ConfigError, DataError
from stacksearch.sources import load_data_section


def write_series(path: Path, n: int = 200, freq: str = "h") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n, freq=freq).astype(str),
            "load": 10.0 + np.sin(np.arange(n) / 6.0),
            "temp": np.cos(np.arange(n) / 4.0),
            "row": np.arange(n, dtype=float),
        }
    )
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "series.csv"
    write_series(path)
    return path


def unscale(data, x: np.ndarray, column: int) -> np.ndarray:
    scaling = data.meta["forecast"]["scaling"]["inputs"]
    return x[..., column] * scaling["std"][column] + scaling["mean"][column]


def test_shapes_dtypes_and_finiteness(csv: Path) -> None:
    data = load_csv(csv, target="load", features=["temp"], window=12, horizon=3, time_column="time")
    # rows 140 / 30 / 30; windows per part: rows - window - horizon + 1
    assert data.x_train.shape == (126, 12, 2)
    assert data.y_train.shape == (126, 3)
    assert data.x_val.shape == (16, 12, 2) and data.x_test.shape == (16, 12, 2)
    for array in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test):
        assert array.dtype == np.float32
        assert np.all(np.isfinite(array))
    assert data.task == "regression" and data.metric == "mse" and data.direction == "minimize"
    assert data.meta["forecast"]["inputs"] == ["load", "temp"]
    assert data.meta["source"] == str(csv)


def test_single_target_horizon_one_is_one_dimensional(csv: Path) -> None:
    data = load_csv(csv, target="load", window=8)
    assert data.y_train.shape == (len(data.x_train),)
    assert data.n_outputs == 1


def test_multi_target_outputs_are_step_major(csv: Path) -> None:
    data = load_csv(csv, target=["load", "row"], window=5, horizon=2)
    assert data.y_train.shape[1] == 4 and data.n_outputs == 4
    rows = unscale(data, data.x_train, 1)
    scale = data.meta["forecast"]["scaling"]["targets"]
    y_rows = data.y_train[:, 1::2] * scale["scale"][1] + scale["shift"][1]
    np.testing.assert_allclose(y_rows[:, 0], rows[:, -1] + 1, atol=1e-3)
    np.testing.assert_allclose(y_rows[:, 1], rows[:, -1] + 2, atol=1e-3)


def test_parts_are_disjoint_and_in_time_order(csv: Path) -> None:
    data = load_csv(csv, target="row", window=10, horizon=2)
    spans = []
    for part in ("train", "val", "test"):
        rows = unscale(data, getattr(data, f"x_{part}"), 0)
        last_target = rows[:, -1] + 2  # horizon 2: targets reach two rows past the window
        spans.append((rows.min(), last_target.max()))
    assert spans[0][1] < spans[1][0] and spans[1][1] < spans[2][0]
    assert data.meta["forecast"]["rows"] == {"train": [0, 140], "val": [140, 170], "test": [170, 200]}


def test_scaling_uses_training_rows_only(tmp_path: Path) -> None:
    frame = write_series(tmp_path / "a.csv")
    changed = frame.copy()
    changed.loc[140:, ["load", "temp"]] *= 1000.0  # validation and test rows only
    changed.to_csv(tmp_path / "b.csv", index=False)
    a = load_csv(tmp_path / "a.csv", target="load", features=["temp"], window=10)
    b = load_csv(tmp_path / "b.csv", target="load", features=["temp"], window=10)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.allclose(a.x_val, b.x_val)


def test_deterministic(csv: Path) -> None:
    a = load_csv(csv, target="load", features=["temp"], window=10)
    b = load_csv(csv, target="load", features=["temp"], window=10)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_persistence_baseline(csv: Path) -> None:
    data = load_csv(csv, target="load", window=10)
    last = data.x_val[:, -1, 0]
    assert data.baseline == pytest.approx(float(np.mean((data.y_val - last) ** 2)), rel=1e-5)
    assert data.meta["baseline_kind"] == "persistence"
    assert set(data.meta["baselines"]) == {"persistence", "mean"}


def test_no_test_part_when_fraction_zero(csv: Path) -> None:
    data = load_csv(csv, target="load", window=10, split=(0.8, 0.2, 0.0))
    assert data.x_test is None and data.y_test is None


@pytest.mark.parametrize(
    ("edit", "kwargs", "pattern"),
    [
        (lambda f: f, {"target": "lod"}, r"column 'lod' \(data.target\) not found; did you mean 'load'"),
        (lambda f: f, {"target": "load", "features": ["tmp"]}, r"column 'tmp' \(data.features\) not found"),
        (
            lambda f: f.assign(load=f["load"].astype(object).where(f.index != 7, "n/a?")),
            {"target": "load"},
            r"column 'load' has a non-numeric value 'n/a\?' at line 9",
        ),
        (
            lambda f: f.assign(temp=f["temp"].where(f.index != 20, np.nan)),
            {"target": "load", "features": ["temp"]},
            r"column 'temp' has a missing value \(gap\) at line 22",
        ),
        (
            lambda f: f.drop(index=50),
            {"target": "load", "time_column": "time"},
            r"column 'time' \(data.time_column\) has a gap or irregular step .* at line 52",
        ),
        (
            lambda f: f.iloc[[0, 2, 1, *range(3, len(f))]],
            {"target": "load", "time_column": "time"},
            r"'time' \(data.time_column\) is not strictly increasing at line 4",
        ),
        (
            lambda f: f.assign(time=f["time"].where(f.index != 3, "soon")),
            {"target": "load", "time_column": "time"},
            r"'time' \(data.time_column\) has 'soon' at line 5, neither a number nor a date",
        ),
        (lambda f: f.iloc[:30], {"target": "load"}, r"30 rows are too few: the validation part gets 4 rows"),
    ],
)
def test_bad_csv_raises_one_line_data_error(tmp_path: Path, edit, kwargs, pattern) -> None:
    path = tmp_path / "bad.csv"
    edit(write_series(tmp_path / "good.csv")).to_csv(path, index=False)
    kwargs.setdefault("window", 12 if "time_column" not in kwargs else 5)
    with pytest.raises(DataError, match=pattern) as err:
        load_csv(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message and str(path) in message


def test_numeric_time_gap_and_unreadable_files(tmp_path: Path) -> None:
    years = pd.DataFrame({"year": np.arange(1900, 2000), "v": np.arange(100.0)})
    years.to_csv(tmp_path / "ok.csv", index=False)
    assert load_csv(tmp_path / "ok.csv", target="v", window=5, time_column="year").x_train.shape == (65, 5, 1)
    years.drop(index=40).to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(DataError, match=r"gap or irregular step 1 at line 42 \(1939 then 1941\)"):
        load_csv(tmp_path / "gap.csv", target="v", window=5, time_column="year")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: the CSV file is empty"):
        load_csv(tmp_path / "empty.csv", target="v")
    (tmp_path / "header.csv").write_text("v,w\n")
    with pytest.raises(DataError, match="header but no rows"):
        load_csv(tmp_path / "header.csv", target="v")
    with pytest.raises(DataError, match="nothere.csv: CSV file not found"):
        load_csv(tmp_path / "nothere.csv", target="v")


def test_monthly_dates_are_regular(tmp_path: Path) -> None:
    write_series(tmp_path / "m.csv", n=120, freq="MS")
    data = load_csv(tmp_path / "m.csv", target="load", window=6, time_column="time")
    assert data.x_train.shape == (78, 6, 1)


def test_config_errors(csv: Path) -> None:
    with pytest.raises(ConfigError, match="metric 'accuracy' does not fit a forecast"):
        load_csv(csv, target="load", metric="accuracy")
    with pytest.raises(ConfigError, match="cannot also be a target"):
        load_csv(csv, target="load", time_column="load")
    with pytest.raises(ConfigError, match="data.csv is a forecasting"):
        validate_config({"data": {"csv": "x.csv", "target": "y", "task": "classification"}})
    with pytest.raises(ConfigError, match="apply to data.csv only"):
        validate_config({"data": {"path": "x.npz", "target": "y"}})


def test_load_data_section_resolves_relative_to_study_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write_series(tmp_path / "data" / "s.csv")
    section = DataSection(csv="data/s.csv", target="load", features=["temp"], window=10, horizon=2, time_column="time")
    data = load_data_section(section, tmp_path)
    assert data.x_train.shape == (129, 10, 2) and data.name == "s"
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=(6, 4, 2)) for k in ("x_train", "x_val")}
    arrays |= {"y_train": np.arange(6) % 2, "y_val": np.arange(6) % 2}
    np.savez(tmp_path / "data" / "d.npz", **arrays)
    npz = load_data_section(DataSection(path="data/d.npz", task="classification"), tmp_path)
    assert npz.n_classes == 2 and npz.metric == "accuracy"


def test_split_bounds_and_forecast_windows_errors() -> None:
    assert split_bounds(10, (0.5, 0.5, 0.0), need=3) == [(0, 5), (5, 10)]
    with pytest.raises(ConfigError, match="summing to 1"):
        split_bounds(10, (0.5, 0.6, 0.0), need=3)
    with pytest.raises(DataError, match="NaN or infinite"):
        forecast_windows(np.array([1.0, np.nan] * 50), window=3)
    with pytest.raises(DataError, match="needs a positive series"):
        forecast_windows(np.linspace(-1, 1, 100), window=3, target_scaling="mean")
