"""Real-data benchmarks: mackey_glass, sunspots and the aeon-shipped UCR/UEA sets."""

from __future__ import annotations

import json
import socket
import sys

import numpy as np
import pytest

from stacksearch import benchmarks
from stacksearch.benchmarks.forecasting import mackey_glass_series
from stacksearch.data import stratified_split
from stacksearch.durations import parse_budget
from stacksearch.exceptions import ConfigError

UEA = {
    # name: (official train, test, length, channels, classes, unequal lengths)
    "gunpoint": (50, 150, 150, 1, 2, False),
    "italy_power_demand": (67, 1029, 24, 1, 2, False),
    "arrow_head": (36, 175, 251, 1, 3, False),
    "japanese_vowels": (270, 370, 29, 12, 9, True),
    "basic_motions": (40, 40, 100, 6, 4, False),
}
FORECASTS = ("mackey_glass", "sunspots")
SMALL = {"mackey_glass": {"n_points": 300}}
ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


@pytest.fixture(scope="module")
def loaded() -> dict:
    pytest.importorskip("aeon")
    pytest.importorskip("statsmodels")
    return {name: benchmarks.load(name, **SMALL.get(name, {})) for name in (*UEA, *FORECASTS)}


def test_registered_with_extra() -> None:
    names = benchmarks.names()
    for name in (*UEA, *FORECASTS):
        assert name in names
    for name in (*UEA, "sunspots"):
        assert benchmarks.get(name).extra == "benchmarks"
    assert benchmarks.get("mackey_glass").extra is None


@pytest.mark.parametrize("name", list(UEA))
def test_uea_shapes_labels_and_split(loaded: dict, name: str) -> None:
    n_train, n_test, length, channels, classes, unequal = UEA[name]
    data = loaded[name]
    assert data.task == "classification" and data.metric == "accuracy" and data.direction == "maximize"
    assert data.n_classes == classes
    assert len(data.x_train) + len(data.x_val) == n_train and len(data.x_test) == n_test
    for part in ("train", "val", "test"):
        x, y = getattr(data, f"x_{part}"), getattr(data, f"y_{part}")
        assert x.shape[1:] == (length, channels) and x.dtype == np.float32 and np.all(np.isfinite(x))
        assert y.dtype == np.int32 and y.min() >= 0 and y.max() < classes
    # stratified: every class in train and validation, proportions kept within one case
    train_counts = np.bincount(data.y_train, minlength=classes)
    val_counts = np.bincount(data.y_val, minlength=classes)
    assert np.all(train_counts > 0) and np.all(val_counts > 0)
    assert data.meta["class_counts"]["val"] == val_counts.tolist()
    total = train_counts + val_counts
    assert np.all(np.abs(val_counts - 0.25 * total) <= 1)
    # train and validation are disjoint cases
    train_rows = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train_rows for row in data.x_val)
    assert (data.mask_value is not None) == unequal
    assert data.baseline == pytest.approx(np.mean(data.y_val == np.argmax(train_counts)))  # majority class


def test_uea_scaled_on_training_part(loaded: dict) -> None:
    data = loaded["basic_motions"]
    flat = data.x_train.reshape(-1, data.n_features)
    np.testing.assert_allclose(flat.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(flat.std(axis=0), 1.0, atol=1e-3)


def test_japanese_vowels_right_padded_and_masked(loaded: dict) -> None:
    data = loaded["japanese_vowels"]
    assert data.mask_value == 0.0
    assert data.meta["lengths"] == [7, 29]
    for x in (data.x_train, data.x_val, data.x_test):
        padded = np.all(x == data.mask_value, axis=2)
        lengths = (~padded).sum(axis=1)
        assert lengths.min() >= 7 and lengths.max() <= 29
        # padding only at the end: once a step is padding, all later steps are
        assert np.all(np.diff(padded.astype(int), axis=1) >= 0)


@pytest.mark.parametrize("name", ["gunpoint", "japanese_vowels"])
def test_uea_deterministic_for_a_seed(loaded: dict, name: str) -> None:
    again = benchmarks.load(name)
    for array in ARRAYS:
        np.testing.assert_array_equal(getattr(loaded[name], array), getattr(again, array))
    other = benchmarks.load(name, seed=1)
    assert not np.array_equal(other.x_val, again.x_val)
    np.testing.assert_array_equal(other.x_test.shape, again.x_test.shape)


@pytest.mark.parametrize("name", FORECASTS)
def test_forecast_shapes_and_chronology(loaded: dict, name: str) -> None:
    data = loaded[name]
    assert data.task == "regression" and data.direction == "minimize"
    for array in ARRAYS:
        values = getattr(data, array)
        assert values.dtype == np.float32 and np.all(np.isfinite(values))
    forecast = data.meta["forecast"]
    rows = forecast["rows"]
    assert rows["train"][1] == rows["val"][0] and rows["val"][1] == rows["test"][0]
    need = forecast["window"] + forecast["horizon"] - 1
    for part in ("train", "val", "test"):
        assert len(getattr(data, f"x_{part}")) == rows[part][1] - rows[part][0] - need
    assert data.meta["baseline_kind"] == "persistence"
    assert data.baseline == pytest.approx(data.meta["baselines"]["persistence"]["val"])


def test_sunspots_windows_match_the_shipped_series(loaded: dict) -> None:
    from statsmodels.datasets import sunspots

    raw = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    data = loaded["sunspots"]
    scaling = data.meta["forecast"]["scaling"]["inputs"]
    train_end, val_start = data.meta["forecast"]["rows"]["train"][1], data.meta["forecast"]["rows"]["val"][0]
    assert scaling["mean"][0] == pytest.approx(raw[:train_end].mean())
    first_val = data.x_val[0, :, 0] * scaling["std"][0] + scaling["mean"][0]
    np.testing.assert_allclose(first_val, raw[val_start : val_start + 12], rtol=1e-5, atol=1e-3)
    assert data.metric == "mse" and data.reference is None


def test_mackey_glass(loaded: dict) -> None:
    data = loaded["mackey_glass"]
    assert data.metric == "smape" and data.reference["value"] == 14.35
    assert np.all(data.y_train > 0)  # divided by the training mean: positive, as sMAPE needs
    assert data.baseline > 5.0  # six time units ahead, persistence is far from perfect
    np.testing.assert_array_equal(mackey_glass_series(50, seed=3), mackey_glass_series(50, seed=3))
    assert not np.allclose(mackey_glass_series(50, seed=3), mackey_glass_series(50, seed=4))
    series = mackey_glass_series(400, seed=None)
    assert 0.3 < series.min() < 0.6 and 1.1 < series.max() < 1.45
    assert benchmarks.load("mackey_glass", n_points=300, metric="mse").reference is None
    with pytest.raises(ConfigError, match="metric"):
        benchmarks.load("mackey_glass", metric="accuracy")


def test_info_is_json_for_study_attributes(loaded: dict) -> None:
    for data in loaded.values():
        info = json.loads(json.dumps(data.info()))
        assert {"task", "metric", "direction", "baseline", "reference", "shapes"} <= set(info)
        reference = info["reference"]
        assert reference is None or {"value", "source"} <= set(reference)


def test_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("aeon")
    pytest.importorskip("statsmodels")

    def refuse(*args, **kwargs):
        raise AssertionError("a benchmark tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in (*UEA, "sunspots"):
        benchmarks.load(name)


@pytest.mark.parametrize(
    ("name", "modules"),
    [("gunpoint", ("aeon", "aeon.datasets")), ("sunspots", ("statsmodels", "statsmodels.datasets"))],
)
def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch, name: str, modules: tuple[str, ...]) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # makes the import fail as if not installed
    with pytest.raises(
        ConfigError, match=rf'{name!r} needs the optional package .*pip install "stacksearch\[benchmarks\]"'
    ):
        benchmarks.load(name)


def test_stratified_split() -> None:
    labels = np.repeat([0, 1, 2], [10, 4, 1])
    keep, held = stratified_split(labels, 0.25, seed=0)
    assert np.bincount(labels[held], minlength=3).tolist() == [3, 1, 0]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(15))
    assert np.array_equal(held, stratified_split(labels, 0.25, seed=0)[1])
    with pytest.raises(ConfigError, match="val_fraction"):
        stratified_split(labels, 1.0)


@pytest.mark.parametrize("name", [*UEA, *FORECASTS])
def test_ready_study_file(name: str) -> None:
    from pathlib import Path

    from stacksearch.config import load_config

    path = Path(__file__).resolve().parents[2] / "studies" / f"{name}.yaml"
    config = load_config(path, env={})
    assert config.benchmark is not None and config.benchmark.name == name
    assert config.study_name == name
    assert config.study.budget is not None and parse_budget(config.study.budget) == ("seconds", 600)
    assert config.confirm.enabled


@pytest.mark.parametrize("name", [*UEA, *FORECASTS])
def test_a_ready_study_resumes_as_made(name: str, tmp_path) -> None:
    """Its stored description (JSON: lists, not tuples) matches the file's on the next run."""
    from pathlib import Path

    from stacksearch.config import load_config
    from stacksearch.search.setup import prepare_study
    from stacksearch.sources import load_study_data

    pytest.importorskip("aeon")
    pytest.importorskip("statsmodels")
    path = Path(__file__).resolve().parents[2] / "studies" / f"{name}.yaml"
    config = load_config(path, env={}, storage=f"sqlite:///{tmp_path / 'o.db'}")
    data = load_study_data(config)
    first = prepare_study(config, data, config.space.to_space())
    again = prepare_study(config, data, config.space.to_space())
    assert again.study_name == first.study_name and again.user_attrs == first.user_attrs
