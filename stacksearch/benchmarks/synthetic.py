"""Generated benchmarks: the adding problem and the copy-memory task.

Example:
    >>> data = load_copy_memory(delay=5, n_train=8, n_val=4, n_test=4)
    >>> data.x_train.shape, data.y_train.shape
    ((8, 25, 10), (8, 25))
"""

from __future__ import annotations

import numpy as np

from stacksearch.benchmarks import register
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError

__all__ = ["load_adding", "load_copy_memory", "adding_problem", "copy_memory_task"]


def _positive(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"benchmark.args.{name}: {value!r} must be a positive integer")
    return int(value)


def adding_problem(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` adding-problem sequences: values in U[0,1] and two markers, one per half."""
    values = rng.uniform(0.0, 1.0, size=(n, length)).astype(np.float32)
    markers = np.zeros((n, length), dtype=np.float32)
    half = max(length // 2, 1)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n) if length > 1 else first
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = (values * markers).sum(axis=1).astype(np.float32)
    return np.stack([values, markers], axis=-1), targets


@register("adding", "adding problem (Hochreiter & Schmidhuber 1997): sum of two marked values, MSE")
def load_adding(
    length: int = 50, n_train: int = 4000, n_val: int = 1000, n_test: int = 1000, seed: int = 0
) -> SequenceData:
    """The adding problem with sequences of ``length`` steps; trivial baseline 1/6 (predict 1)."""
    length = _positive("length", length)
    if length < 2:
        raise ConfigError("benchmark.args.length: the adding problem needs length >= 2")
    sizes = [_positive(k, v) for k, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test))]
    rng = np.random.default_rng(seed)
    (xt, yt), (xv, yv), (xs, ys) = (adding_problem(n, length, rng) for n in sizes)
    return SequenceData(
        xt,
        yt,
        xv,
        yv,
        xs,
        ys,
        task="regression",
        metric="mse",
        name="adding",
        baseline=1.0 / 6.0,
        reference={
            "value": 1.0 / 6.0,
            "source": "trivial baseline: always predict 1 (MSE 1/6); a 128-unit LSTM beats it up "
            "to T~400 (Arjovsky et al. 2016)",
        },
    )


def copy_memory_task(
    n: int, delay: int, rng: np.random.Generator, n_symbols: int = 8, span: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Copy-memory sequences: ``span`` symbols, ``delay`` blanks, a cue, then recall.

    Classes: 0 blank, 1..n_symbols symbols, n_symbols+1 the cue. Inputs are one-hot.
    """
    total = span + delay + span
    cue = n_symbols + 1
    symbols = rng.integers(1, n_symbols + 1, size=(n, span))
    tokens = np.zeros((n, total), dtype=np.int64)
    tokens[:, :span] = symbols
    tokens[:, span + delay - 1] = cue
    labels = np.zeros((n, total), dtype=np.int32)
    labels[:, -span:] = symbols
    x = np.eye(n_symbols + 2, dtype=np.float32)[tokens]
    return x, labels


@register("copy_memory", "copy memory: recall 10 symbols after a delay, per-step cross-entropy")
def load_copy_memory(
    delay: int = 100, n_train: int = 4000, n_val: int = 1000, n_test: int = 1000, seed: int = 0
) -> SequenceData:
    """Copy memory with ``delay`` blanks (sequence labelling, length ``delay + 20``).

    The no-memory baseline predicts blanks and then uniform symbols: ``10 ln 8 / (delay + 20)``.
    """
    delay = _positive("delay", delay)
    sizes = [_positive(k, v) for k, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test))]
    rng = np.random.default_rng(seed)
    (xt, yt), (xv, yv), (xs, ys) = (copy_memory_task(n, delay, rng) for n in sizes)
    baseline = 10 * np.log(8) / (delay + 20)
    return SequenceData(
        xt,
        yt,
        xv,
        yv,
        xs,
        ys,
        task="sequence_labelling",
        metric="cross_entropy",
        n_classes=10,
        name="copy_memory",
        baseline=float(baseline),
        reference={"value": float(baseline), "source": "no-memory baseline 10 ln8 / (T+20)"},
    )
