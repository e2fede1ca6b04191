"""Study files and clocks: a tiny study YAML that trains in seconds, a local time zone for a block."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["TINY_STUDY", "time_zone", "tiny_study", "write_study"]

TINY_STUDY = """
study: {{name: {name}, n_trials: {n_trials}, seed: 1}}
benchmark: {{name: adding, args: {{length: 8, n_train: 128, n_val: 64, n_test: 64}}}}
space: {{depth: [1, 2], units: [4, 12], learning_rate: [0.001, 0.01]}}
training: {{epochs: 2, batch_size: 64}}
tracking: false
report: false
confirm: false
"""


@contextlib.contextmanager
def time_zone(name: str) -> Iterator[None]:
    """Run the block with the process's local time zone set to ``name`` (``TZ``), then restore it.

    Example:
        >>> with time_zone("Asia/Kolkata"):
        ...     time.strftime("%z")
        '+0530'
    """
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def write_study(path: Path, text: str) -> Path:
    """Write a study YAML file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def tiny_study(folder: Path, name: str = "tiny", n_trials: int = 2) -> Path:
    """A study file that runs ``n_trials`` trials of tiny models without tracking.

    Example:
        >>> tiny_study(tmp_path, "t", n_trials=1).name  # doctest: +SKIP
        't.yaml'
    """
    return write_study(folder / f"{name}.yaml", TINY_STUDY.format(name=name, n_trials=n_trials))
