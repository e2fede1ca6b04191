"""Helpers of the MLflow tracking (no MLflow import at module level): names, masking, conversions.

Example:
    >>> redact("postgresql://me:secret@db/optuna?sslpassword=x&password=y")
    'postgresql://me:***@db/optuna?sslpassword=x&password=***'
    >>> trial_params({"depth": 2, "units": 8, "learning_rate": 0.01}, {"widths": [8, 8], "seed": 3})
    {'depth': '2', 'units': '8', 'learning_rate': '0.01', 'units_0': '8', 'units_1': '8', 'seed': '3'}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.exceptions import TrackingError
from stacksearch.metrics import best_of, better
from stacksearch.settings import DEFAULT_TRACKING_URI
from stacksearch.states import ENDED
from stacksearch.storage import mask_url, redact, sqlite_file

if TYPE_CHECKING:
    import keras
    from mlflow.entities import Run

    from stacksearch.tracking.tracker import MLflowTracker

__all__ = [
    "RetryPolicy",
    "mask_url",
    "redact",
    "trial_params",
    "final_metrics",
    "trial_reason",
    "improves",
    "check_uri",
    "TAG_ROLE",
    "TAG_KEY",
    "TAG_STUDY",
    "TAG_TRIAL",
    "TAG_STATE",
    "TAG_REASON",
    "TAG_PARENT",
    "TAG_MODEL",
    "RUN_STATUS",
    "MODEL_NAME",
    "LOCK_PREFIX",
    "SyncResult",
    "sync_trials",
]

TAG_ROLE = "stacksearch.role"  # "parent" or "trial"
TAG_KEY = "stacksearch.study_key"  # hash of the study name: safe inside search filters
TAG_STUDY = "optuna.study_name"
TAG_TRIAL = "optuna.trial_number"
TAG_STATE = "optuna.trial_state"
TAG_REASON = "optuna.trial_reason"
TAG_PARENT = "mlflow.parentRunId"
TAG_MODEL = "stacksearch.model_uri"
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
MODEL_NAME = "model"
LOCK_PREFIX = ".stacksearch-lock"
FINAL_KEYS = ("n_params", "epochs_trained", "best_epoch", "train_seconds")
PERMANENT_ERRORS = {
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "INVALID_PARAMETER_VALUE",
    "INVALID_STATE",
    "BAD_REQUEST",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "ENDPOINT_NOT_FOUND",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the tracker tries before it goes on without MLflow.

    Each call is tried ``attempts`` times, sleeping ``backoff`` seconds, doubled each time.
    After that MLflow counts as down for ``cooldown`` seconds (doubled per failed probe, up
    to ``max_cooldown``): calls are skipped without waiting and the trials are logged later.
    ``http_retries`` / ``http_timeout`` bound MLflow's own HTTP retries (its default retries
    for about four minutes); they apply only where ``MLFLOW_HTTP_REQUEST_*`` are unset.
    """

    attempts: int = 3
    backoff: float = 0.2
    cooldown: float = 5.0
    max_cooldown: float = 120.0
    lock_timeout: float = 30.0
    http_retries: int = 1
    http_timeout: int = 10


class Unavailable(Exception):
    """MLflow did not answer (or is in its cool-down): the caller goes on without it."""


@dataclass
class StudyContext:
    study_name: str
    key: str
    experiment_id: str
    parent_run_id: str


@dataclass
class LiveRun:
    """A trial run being logged by this process: what was sent, what waits in the buffer."""

    run_id: str
    params: dict[str, str] = field(default_factory=dict)
    pending_params: dict[str, str] = field(default_factory=dict)
    buffer: list = field(default_factory=list)
    last_flush: float = 0.0
    dirty: bool = False
    model_uri: str | None = None


def ms(when: Any) -> int:
    return int(when.timestamp() * 1000) if when is not None else int(time.time() * 1000)


def fmt(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, tuple, dict)) else str(value)
    return redact(text)[:6000]


def param_key(name: str) -> str:
    return re.sub(r"[^\w\-. /]", "_", name)[:250]


def flatten(prefix: str, value: Any, out: dict[str, str]) -> dict[str, str]:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif value is not None:
        out[param_key(prefix)] = fmt(value)
    return out


def study_key(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:20]


def error_code(err: BaseException) -> str | None:
    return getattr(err, "error_code", None)


_ATTR_PARAMS = ("width_mode", "backend", "seed", "bidirectional", "residual", "source_trial", "confirm_seed")


def trial_params(params: dict[str, Any], attrs: dict[str, Any], widths: Iterable[int] | None = None) -> dict[str, str]:
    """The MLflow params of one trial: sampled values, depth, ``units_i`` per layer, and more."""
    out: dict[str, Any] = dict(params)
    widths = list(widths if widths is not None else attrs.get("widths") or [])
    if widths:
        out["depth"] = len(widths)
        out.update({f"units_{i}": int(w) for i, w in enumerate(widths)})
    out.update({k: attrs[k] for k in _ATTR_PARAMS if k in attrs})
    return {param_key(k): fmt(v) for k, v in out.items()}


def final_metrics(trial: FrozenTrial) -> dict[str, float]:
    attrs = trial.user_attrs
    out = {k: float(attrs[k]) for k in FINAL_KEYS if isinstance(attrs.get(k), (int, float))}
    out.update({k: float(v) for k, v in attrs.items() if k.startswith("test_") and isinstance(v, (int, float))})
    if trial.state == TrialState.COMPLETE and trial.values:
        if len(trial.values) == 1:
            out["objective"] = float(trial.values[0])
        else:
            out.update({f"objective_{i}": float(v) for i, v in enumerate(trial.values)})
    return out


def trial_reason(trial: FrozenTrial) -> str | None:
    attrs, system = trial.user_attrs, trial.system_attrs
    for key in ("reject_reason", "prune_reason", "fail_reason"):
        if attrs.get(key):
            return str(attrs[key])
    if trial.state == TrialState.FAIL:
        return str(system.get("fail_reason") or "failed (worker stopped or objective raised)")
    if trial.state == TrialState.PRUNED:
        return f"pruned after {len(trial.intermediate_values)} reported epochs"
    return None


def improves(study: optuna.Study, value: float | None) -> bool:
    """Whether ``value`` (the first objective) beats every completed trial of ``study``."""
    if value is None or not math.isfinite(value):
        return False
    direction = study.directions[0]
    best: float | None
    if len(study.directions) == 1:
        try:
            best = study.best_value
        except ValueError:
            return True
    else:
        done = [t.values[0] for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
        if not done:
            return True
        best = best_of(done, direction)
    return best is None or better(value, best, direction)


def sqlite_path(uri: str) -> Path | None:
    """The database file of an ``sqlite:///`` URI (None for other URIs and in-memory SQLite)."""
    path = sqlite_file(uri)
    return path.resolve() if path is not None else None


def enable_sqlite_wal(uri: str) -> None:
    """Switch an SQLite tracking database to write-ahead logging (3x cheaper commits, and
    readers such as the UI no longer block writers). The setting stays with the file."""
    path = sqlite_path(uri)
    if path is None:
        return
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def check_uri(uri: str) -> str:
    scheme = uri.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][\w+.-]*:", uri) else ""
    if scheme in ("", "file") and os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() != "true":
        raise TrackingError(
            f"tracking URI {mask_url(uri)!r} is a file store, which MLflow >= 3.13 refuses: use "
            f"{DEFAULT_TRACKING_URI}, another SQL database, or an http:// MLflow server"
        )
    path = sqlite_path(uri)
    if path is not None and not path.parent.is_dir():
        raise TrackingError(f"tracking URI {uri!r}: folder {path.parent} does not exist")
    return uri


def short(err: BaseException | None) -> str:
    text = f"{type(err).__name__}: {err}" if err is not None else "unknown error"
    return redact(text.strip().splitlines()[0] if text.strip() else text)[:300]


@contextlib.contextmanager
def use_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (used by ``Model.log``) at ``uri`` for a moment."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    previous = getattr(utils, "_tracking_uri", None)
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None resets it; the stub says str only


def model_signature(model: keras.Model) -> Any:
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    def schema(tensors: list) -> Schema:
        return Schema(
            [TensorSpec(np.dtype(str(t.dtype)), tuple(-1 if d is None else int(d) for d in t.shape)) for t in tensors]
        )

    return ModelSignature(inputs=schema(list(model.inputs)), outputs=schema(list(model.outputs)))


def pip_requirements() -> list[str]:
    from importlib import metadata

    from stacksearch.backend import resolve_backend

    backend = {"tensorflow": ["tensorflow", "tensorflow-cpu"], "jax": ["jax"], "torch": ["torch"]}
    out = []
    for names in (["mlflow"], ["keras"], backend.get(resolve_backend(None), [])):
        for name in names:
            with contextlib.suppress(metadata.PackageNotFoundError):
                out.append(f"{name}=={metadata.version(name)}")
                break
    return out


@dataclass
class SyncResult:
    """Trial numbers by what :func:`sync_mlflow` did to their runs."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return ", ".join(
            f"{name} {len(getattr(self, name))}" for name in ("created", "updated", "killed", "removed", "unchanged")
        )


def _trial_runs(tracker: MLflowTracker, context: StudyContext) -> dict[int, list[Run]]:
    """Every active trial run of the study, by trial number, oldest first."""
    runs: dict[int, list[Run]] = {}
    token = None
    while True:
        page = tracker.call(
            tracker.client.search_runs,
            [context.experiment_id],
            f"tags.`{TAG_KEY}` = '{context.key}' and tags.`{TAG_ROLE}` = 'trial'",
            max_results=1000,
            page_token=token,
        )
        for run in page:
            number = run.data.tags.get(TAG_TRIAL, "")
            if number.isdigit():
                runs.setdefault(int(number), []).append(run)
        token = page.token
        if not token:
            break
    for found in runs.values():
        found.sort(key=lambda r: (r.info.start_time, r.info.run_id))
    return runs


def _stale(run: Run, trial: FrozenTrial) -> bool:
    return run.info.status != RUN_STATUS[trial.state.name] or run.data.tags.get(TAG_STATE) != trial.state.name


def _keep_one(tracker: MLflowTracker, trial: FrozenTrial, runs: list[Run], result: SyncResult) -> Run | None:
    if not runs:
        return None
    wanted = trial.user_attrs.get("mlflow_run_id")
    keep = next((r for r in runs if r.info.run_id == wanted), runs[0])
    for run in runs:
        if run is not keep:
            tracker.call(tracker.client.delete_run, run.info.run_id)
            result.removed.append(trial.number)
    return keep


def _sync_one(
    tracker: MLflowTracker,
    context: StudyContext,
    trial: FrozenTrial,
    runs: list[Run],
    result: SyncResult,
    kill_running: bool,
) -> None:
    run = _keep_one(tracker, trial, runs, result)
    if trial.state not in ENDED:
        if run is not None and kill_running and run.info.status == "RUNNING" and trial.state == TrialState.RUNNING:
            tracker.log_batch(
                run.info.run_id, tags={TAG_STATE: "RUNNING", TAG_REASON: "worker stopped (killed by sync)"}
            )
            tracker.call(tracker.client.set_terminated, run.info.run_id, "KILLED")
            result.killed.append(trial.number)
        else:
            result.unchanged.append(trial.number)
        return
    if run is None:
        run_id = tracker.create_child(context, trial.number, trial.datetime_start)
        tracker.write_trial(context, run_id, trial, history="all", known_params={})
        result.created.append(trial.number)
    elif _stale(run, trial):
        tracker.write_trial(context, run.info.run_id, trial, run=run, history="missing")
        result.updated.append(trial.number)
    else:
        result.unchanged.append(trial.number)


def sync_trials(
    tracker: MLflowTracker,
    study: optuna.Study,
    numbers: Iterable[int] | None = None,
    *,
    kill_running: bool = False,
    result: SyncResult | None = None,
) -> set[int]:
    """Bring the runs of the given trials (all when ``None``) in line with storage.

    Returns the trial numbers whose runs are now complete or were left alone on purpose.
    """
    context = tracker.context(study)
    wanted = None if numbers is None else set(numbers)
    runs = _trial_runs(tracker, context)
    result = result if result is not None else SyncResult()
    done: set[int] = set()
    for trial in study.get_trials(deepcopy=False):
        if wanted is not None and trial.number not in wanted:
            continue
        if wanted is not None and trial.state not in ENDED:
            continue
        _sync_one(tracker, context, trial, runs.get(trial.number, []), result, kill_running)
        done.add(trial.number)
    return done
