"""stacksearch: how deep and how wide should a stacked LSTM be?

An Optuna objective that builds Keras 3 stacked LSTMs of varying depth and width, SQL
storage through Optuna's RDB storage, MLflow tracking, and depth-versus-width reports.
Importing the package loads neither Keras, TensorFlow nor MLflow; the names that need
them load on first use.

Example:
    >>> import stacksearch as ss
    >>> ss.SearchSpace(depth=(1, 4), units=(16, 256)).depth
    (1, 4)
"""

from __future__ import annotations

import importlib
from typing import Any

from stacksearch import benchmarks
from stacksearch.config import StudyConfig, load_config
from stacksearch.data import SequenceData
from stacksearch.exceptions import (
    ConfigError,
    DataError,
    NoCompletedTrialError,
    StackSearchError,
    StorageError,
    TrackingError,
    TrialRejected,
    WorkerError,
)
from stacksearch.space import ArchSpec, SearchSpace

__version__ = "0.1.0"

_LAZY = {
    "build_stacked_lstm": "stacksearch.model",
    "stack_layers": "stacksearch.model",
    "StackedLSTMObjective": "stacksearch.objective",
    "ModelObjective": "stacksearch.objective",
    "MLflowTracker": "stacksearch.tracking",
    "run_study": "stacksearch.search.loop",
    "default_sampler": "stacksearch.search.setup",
    "default_pruner": "stacksearch.search.setup",
    "depth_width_table": "stacksearch.report",
    "write_report": "stacksearch.report",
}

__all__ = [
    "__version__",
    "benchmarks",
    "load_config",
    "StudyConfig",
    "SearchSpace",
    "ArchSpec",
    "SequenceData",
    "StackSearchError",
    "ConfigError",
    "DataError",
    "StorageError",
    "TrackingError",
    "NoCompletedTrialError",
    "WorkerError",
    "TrialRejected",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stacksearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
