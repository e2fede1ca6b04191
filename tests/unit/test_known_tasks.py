"""The known-answer benchmarks: shapes, determinism, baselines and the floors their docstrings state."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import stacksearch.benchmarks.known as known
from stacksearch import benchmarks
from stacksearch.exceptions import ConfigError
from stacksearch.metrics import metric

ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def test_registered_and_described() -> None:
    assert {"null_depth", "deep_hierarchy"} <= set(benchmarks.names())
    assert benchmarks.describe("null_depth", n_train=8, n_val=4, n_test=4)["shapes"]["train"] == [8, 20, 2]
    assert benchmarks.get("deep_hierarchy").extra is None


@pytest.mark.parametrize("name", ["null_depth", "deep_hierarchy"])
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    small = {"n_train": 32, "n_val": 16, "n_test": 16}
    a, b = benchmarks.load(name, **small, seed=3), benchmarks.load(name, **small, seed=3)
    c = benchmarks.load(name, **small, seed=4)
    for part in ARRAYS:
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.x_train, c.x_train)


def test_null_depth_shapes_and_known_answer() -> None:
    data = benchmarks.load("null_depth", length=25, n_train=64, n_val=32, n_test=16)
    assert (data.task, data.metric, data.direction) == ("regression", "mse", "minimize")
    assert data.x_train.shape == (64, 25, 2) and data.y_train.shape == (64,) and data.x_test.shape == (16, 25, 2)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.float32
    assert data.meta["known_answer"] == "null" and data.reference["value"] == pytest.approx(0.01)


def test_null_depth_bayes_predictor_scores_the_noise_floor_and_nothing_linear_beats_it() -> None:
    noise = 0.2
    data = benchmarks.load("null_depth", noise=noise, n_train=4000, n_val=20000, n_test=10)
    mse = metric("mse").score
    bayes = mse(data.y_val, math.sqrt(3) * data.x_val[:, -1, 0])
    assert bayes == pytest.approx(noise**2, rel=0.05)
    assert data.meta["bayes_score"] == pytest.approx(noise**2)
    assert data.baseline == pytest.approx(1 + noise**2, rel=0.05)
    # a least-squares fit on every input of every step: at the floor, not below it
    design = lambda x: np.c_[x.reshape(len(x), -1), np.ones(len(x))]  # noqa: E731
    weights = np.linalg.lstsq(design(data.x_train), data.y_train, rcond=None)[0]
    fitted = mse(data.y_val, design(data.x_val) @ weights)
    assert noise**2 * 0.95 < fitted < noise**2 * 1.1


@pytest.mark.parametrize(
    ("args", "key"),
    [({"noise": 0}, "noise"), ({"noise": -1.0}, "noise"), ({"length": 0}, "length"), ({"n_val": 0}, "n_val")],
)
def test_null_depth_bad_arguments_name_the_argument(args: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=f"^benchmark.args.{key}: "):
        benchmarks.load("null_depth", **args)


def test_deep_hierarchy_labels_follow_the_construction() -> None:
    data = benchmarks.load("deep_hierarchy", length=30, n_train=500, n_val=50, n_test=50)
    assert (data.task, data.metric, data.n_classes) == ("sequence_labelling", "cross_entropy", 2)
    assert data.x_train.shape == (500, 30, 4) and data.y_train.shape == (500, 30) and data.y_train.dtype == np.int32
    c = known.fold_feature(data.x_train.astype(np.float64))
    expected = np.abs(c - np.concatenate([np.zeros((500, 1)), c[:, :-1]], axis=1)) > known.THRESHOLD
    assert np.array_equal(data.y_train, expected.astype(np.int32))
    assert data.meta["known_answer"] == "deep"


def test_deep_hierarchy_is_balanced_needs_memory_and_is_not_linear() -> None:
    x, y = known.deep_hierarchy_task(4000, 20, np.random.default_rng(0))
    assert abs(y[:, 1:].mean() - 0.5) < 0.01  # THRESHOLD is the median
    data = benchmarks.load("deep_hierarchy", n_train=2000, n_val=500, n_test=10)
    assert data.baseline == pytest.approx(math.log(2), abs=0.01)
    # the best rule that sees only the current step's C_t (majority label per narrow bin) stays far from 1
    c, labels = known.fold_feature(x[:, 1:].astype(np.float64)).ravel(), y[:, 1:].ravel()
    bins = np.digitize(c, np.linspace(0, 2, 81))
    rate = np.bincount(bins, weights=labels, minlength=82) / np.maximum(np.bincount(bins, minlength=82), 1)
    assert np.mean((rate[bins] > 0.5) == labels) < 0.8
    # a linear rule on both steps' raw features is no better than chance
    features = np.c_[x[:, 1:].reshape(-1, 4), x[:, :-1].reshape(-1, 4), np.ones(labels.size)]
    weights = np.linalg.lstsq(features, labels * 2.0 - 1, rcond=None)[0]
    assert abs(np.mean((features @ weights > 0) == labels) - 0.5) < 0.03


def test_docstring_examples() -> None:
    assert doctest.testmod(known, optionflags=doctest.ELLIPSIS).failed == 0
