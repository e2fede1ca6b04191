"""Every setting a user can give outside the study file, the rule that picks its value, and the shared defaults.

:data:`SETTINGS` is the one table: for each setting its CLI flag, its environment
variable (if any), its study-file key and its default. :func:`resolve` applies the one
rule: **flag > environment > study file > default**. The study-file layer
(:func:`stacksearch.config.apply_overrides`) and the CLI resolve through it; library
classes take explicit values, and where they are given none they resolve here too, so
``MLflowTracker()`` and ``serve_ui()`` honour ``MLFLOW_TRACKING_URI``,
``CheckpointStore.for_config`` honours ``STACKSEARCH_ARTIFACTS`` and
``select_backend(None)`` honours ``KERAS_BACKEND`` (which Keras itself reads as well).
Nothing else in the package reads these variables.

Not in the table, on purpose: process plumbing that stacksearch sets for child processes
or frameworks rather than a choice a user makes: the thread counts (``OMP_NUM_THREADS``,
``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``,
``TF_NUM_INTEROP_THREADS``, ``XLA_FLAGS``) and ``CUDA_VISIBLE_DEVICES`` of each worker
(:mod:`stacksearch.host`), ``STACKSEARCH_WORKER`` (the worker index the sampler seed is
offset by), the log levels (``TF_CPP_MIN_LOG_LEVEL``, ``GRPC_VERBOSITY``,
``MLFLOW_LOGGING_LEVEL``), MLflow's own ``MLFLOW_HTTP_REQUEST_*`` retries and
``MLFLOW_ALLOW_FILE_STORE``, and the ``MLFLOW_BACKEND_STORE_URI`` handed to the UI server.

Example:
    >>> resolve("storage", env={})
    'sqlite:///stacksearch.db'
    >>> resolve("storage", file="sqlite:///file.db", env={"STACKSEARCH_STORAGE": "sqlite:///env.db"})
    'sqlite:///env.db'
    >>> resolve("storage", flag="sqlite:///flag.db", env={"STACKSEARCH_STORAGE": "sqlite:///env.db"})
    'sqlite:///flag.db'
    >>> SETTINGS["backend"].flag, SETTINGS["backend"].env, SETTINGS["backend"].key
    ('--backend', 'KERAS_BACKEND', 'training.backend')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "Setting",
    "Choice",
    "SETTINGS",
    "resolve",
    "choose",
    "DEFAULT_STORAGE",
    "DEFAULT_TRACKING_URI",
    "DEFAULT_BACKEND",
    "KERAS_DEFAULT_BACKEND",
    "ARTIFACTS_FOLDER",
    "HEARTBEAT_INTERVAL",
    "GRACE_PERIOD",
    "N_TRIALS",
    "SEED",
    "WORKERS",
    "EPOCHS",
    "BATCH_SIZE",
    "PATIENCE",
]

DEFAULT_STORAGE = "sqlite:///stacksearch.db"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_BACKEND = "auto"  # TensorFlow on CPU, JAX on a GPU (stacksearch.backend.auto_backend)
KERAS_DEFAULT_BACKEND = "tensorflow"  # what Keras loads when nothing names a backend
ARTIFACTS_FOLDER = "stacksearch-artifacts"  # checkpoints of a server database; an SQLite file's go beside it
HEARTBEAT_INTERVAL = 10  # seconds
GRACE_PERIOD = 30  # seconds
N_TRIALS = 20
SEED = 0
WORKERS = 1
EPOCHS = 10
BATCH_SIZE = 64
PATIENCE = 3


@dataclass(frozen=True)
class Setting:
    """One row of :data:`SETTINGS`.

    ``key`` is the study-file key (``section.field``); ``flag`` the ``stacksearch run`` option
    (``switch`` is the value a flag without an argument, such as ``--no-tracking``, sets);
    ``samples`` are valid values other than the default, for examples and tests.

    Example:
        >>> SETTINGS["artifacts"].flag is None, SETTINGS["artifacts"].env
        (True, 'STACKSEARCH_ARTIFACTS')
    """

    name: str
    flag: str | None
    env: str | None
    key: str
    default: Any
    samples: tuple[Any, ...]
    switch: Any = None

    @property
    def section(self) -> str:
        """The study-file section (``study`` of ``study.storage``)."""
        return self.key.partition(".")[0]

    @property
    def field(self) -> str:
        """The key inside its section (``storage`` of ``study.storage``)."""
        return self.key.partition(".")[2]


class Choice(NamedTuple):
    """A resolved value, the layer it came from and what set it (for messages).

    ``layer`` is ``flag``, ``environment``, ``file`` or ``default``; ``origin`` is the flag
    (``--storage``), the variable (``STACKSEARCH_STORAGE``), the key (``study.storage``) or
    ``default``.
    """

    value: Any
    layer: str
    origin: str


def _table(*rows: Setting) -> Mapping[str, Setting]:
    return MappingProxyType({row.name: row for row in rows})


SETTINGS: Mapping[str, Setting] = _table(
    Setting("n_trials", "--n-trials", None, "study.n_trials", N_TRIALS, (5, 7)),
    Setting("timeout", "--timeout", None, "study.timeout", None, (60.0, 90.0)),
    Setting("budget", "--budget", None, "study.budget", None, ("20m", "600 epochs")),  # None: no budget
    Setting(
        "storage",
        "--storage",
        "STACKSEARCH_STORAGE",
        "study.storage",
        DEFAULT_STORAGE,
        ("sqlite:///flag.db", "sqlite:///env.db"),
    ),
    Setting("study_name", "--study-name", None, "study.name", None, ("flagged", "named")),  # None: the file's stem
    Setting("seed", "--seed", None, "study.seed", SEED, (1, 2)),
    Setting("workers", "--workers", None, "study.workers", WORKERS, (2, 3)),
    Setting(
        "artifacts", None, "STACKSEARCH_ARTIFACTS", "study.artifacts", None, ("/shared/env-ckpt", "/shared/file-ckpt")
    ),  # None: beside an SQLite file, else ./stacksearch-artifacts (stacksearch.checkpoint.default_folder)
    Setting("backend", "--backend", "KERAS_BACKEND", "training.backend", DEFAULT_BACKEND, ("torch", "jax")),
    Setting(
        "tracking_uri",
        "--tracking-uri",
        "MLFLOW_TRACKING_URI",
        "tracking.tracking_uri",
        DEFAULT_TRACKING_URI,
        ("sqlite:///flag-mlflow.db", "sqlite:///env-mlflow.db"),
    ),
    Setting("tracking", "--no-tracking", None, "tracking.enabled", True, (False,), switch=False),
    Setting("report", "--no-report", None, "report.enabled", True, (False,), switch=False),
)

_TABLE_DEFAULT: Any = object()


def choose(
    name: str,
    *,
    flag: Any = None,
    file: Any = None,
    env: Mapping[str, str] | None = None,
    default: Any = _TABLE_DEFAULT,
) -> Choice:
    """Setting ``name``'s value by flag > environment > study file > default, and where it came from.

    ``flag`` is the command-line value or a caller's explicit argument; ``env`` defaults to
    ``os.environ``; ``default`` to the table's. ``None`` and ``""`` count as not given.

    Example:
        >>> choose("backend", file="jax", env={"KERAS_BACKEND": "torch"})
        Choice(value='torch', layer='environment', origin='KERAS_BACKEND')
    """
    try:
        setting = SETTINGS[name]
    except KeyError:
        raise KeyError(f"no setting {name!r}; the settings are {', '.join(SETTINGS)}") from None
    environ = os.environ if env is None else env
    layers = (
        (flag, "flag", setting.flag or "argument"),
        (environ.get(setting.env) if setting.env else None, "environment", setting.env or "environment"),
        (file, "file", setting.key),
    )
    for value, layer, origin in layers:
        if value is not None and value != "":
            return Choice(value, layer, origin)
    return Choice(setting.default if default is _TABLE_DEFAULT else default, "default", "default")


def resolve(
    name: str,
    *,
    flag: Any = None,
    file: Any = None,
    env: Mapping[str, str] | None = None,
    default: Any = _TABLE_DEFAULT,
) -> Any:
    """Setting ``name``'s value: flag > environment > study file > default (see :func:`choose`).

    Example:
        >>> resolve("tracking_uri", env={})
        'sqlite:///mlflow.db'
        >>> resolve("tracking_uri", env={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})
        'http://mlflow:5000'
    """
    return choose(name, flag=flag, file=file, env=env, default=default).value
