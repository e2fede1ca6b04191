"""Calling MLflow for the tracker: retries with back-off and a cool-down, batched writes,
and finding or creating a study's experiment and its one parent run (race-safe).

Example:
    >>> class Tracker(TrackerBase): ...  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stacksearch.tracking.runs import (
    LOCK_PREFIX,
    PERMANENT_ERRORS,
    TAG_KEY,
    TAG_ROLE,
    TAG_STUDY,
    RetryPolicy,
    Unavailable,
    error_code,
    mask_url,
    redact,
    short,
    sqlite_path,
)

if TYPE_CHECKING:
    import mlflow
    from mlflow.entities import Run

__all__ = ["TrackerBase"]

_log = logging.getLogger("stacksearch.tracking")


class TrackerBase:
    """What :class:`~stacksearch.tracking.MLflowTracker` builds on: every MLflow call goes
    through :meth:`call`, which retries, then skips calls during a cool-down."""

    tracking_uri: str
    retry: RetryPolicy
    _lock: threading.RLock
    _down_until: float
    _cooldown: float
    _outage: bool
    _warned: set[str]
    _pending: dict[str, set[int]]

    @property
    def client(self) -> mlflow.MlflowClient:
        raise NotImplementedError

    # -- calling MLflow: retry, back off, go on ------------------------------------------

    def call(self, func: Callable, *args: Any, recover: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            raise Unavailable("in cool-down")
        error: Exception | None = None
        for attempt in range(self.retry.attempts):
            if attempt and recover is not None:
                with contextlib.suppress(Exception):
                    found = recover()
                    if found is not None:
                        return found
            try:
                result = func(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - any transport or server fault
                if error_code(err) in PERMANENT_ERRORS:
                    raise
                error = err
                if attempt + 1 < self.retry.attempts:
                    time.sleep(self.retry.backoff * 2**attempt)
                continue
            if self._outage:
                with self._lock:
                    self._outage, self._cooldown = False, self.retry.cooldown
                _log.warning("MLflow tracking at %s answers again", mask_url(self.tracking_uri))
            return result
        with self._lock:
            self._down_until = time.monotonic() + self._cooldown
            self._cooldown = min(self._cooldown * 2, self.retry.max_cooldown)
            self._outage = True
        self._warn_once(
            "down",
            f"MLflow tracking at {mask_url(self.tracking_uri)} is unreachable "
            f"({short(error)}); the study goes on and the missed trials are logged when "
            "it answers again (or run `stacksearch sync-mlflow`)",
        )
        raise Unavailable(short(error)) from error

    def _warn_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._warned:
                _log.debug("%s", redact(message))
                return
            self._warned.add(kind)
        _log.warning("%s", redact(message))

    def _guarded(self, what: str, study_name: str | None, number: int | None, func: Callable, *args: Any) -> Any:
        try:
            return func(*args)
        except Unavailable:
            if study_name is not None and number is not None:
                with self._lock:
                    self._pending.setdefault(study_name, set()).add(number)
        except Exception as err:  # noqa: BLE001 - tracking never fails a trial
            self._warn_once(f"{what}:{type(err).__name__}", f"MLflow tracking: {what} failed: {short(err)}")
        return None

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: list | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        from mlflow.entities import Param, RunTag

        metrics = list(metrics or [])
        params_l = [Param(k, v) for k, v in (params or {}).items()]
        tags_l = [RunTag(k, redact(str(v))[:7000]) for k, v in (tags or {}).items()]
        while metrics or params_l or tags_l:
            p, params_l = params_l[:100], params_l[100:]
            t, tags_l = tags_l[:100], tags_l[100:]
            m, metrics = metrics[: 1000 - len(p) - len(t)], metrics[1000 - len(p) - len(t) :]
            self.call(self.client.log_batch, run_id, metrics=m, params=p, tags=t)

    # -- experiment and parent run ---------------------------------------------------------

    def _known_experiment(self, attrs: dict, study_name: str) -> str | None:
        """The name of the experiment this study logged to before, if it is in this store."""
        experiment_id = attrs.get("mlflow_experiment_id")
        if not experiment_id:
            return None
        try:
            found = self.call(self.client.get_experiment, experiment_id)
        except Unavailable:
            raise
        except Exception:  # noqa: BLE001 - another tracking store: not this one
            return None
        return found.name if found is not None and found.tags.get(TAG_STUDY) == study_name else None

    def _artifact_location(self) -> str | None:
        path = sqlite_path(self.tracking_uri)
        return (path.parent / "mlartifacts").as_uri() if path is not None else None

    def _experiment(self, experiment_name: str, study_name: str) -> str:
        found = self.call(self.client.get_experiment_by_name, experiment_name)
        if found is None:
            try:
                return self.call(
                    self.client.create_experiment,
                    experiment_name,
                    artifact_location=self._artifact_location(),
                    tags={
                        TAG_STUDY: study_name,
                        "mlflow.note.content": f"stacksearch: depth x width search of Optuna study {study_name!r}",
                    },
                )
            except Exception as err:
                if error_code(err) != "RESOURCE_ALREADY_EXISTS":
                    raise
            found = self.call(self.client.get_experiment_by_name, experiment_name)
        if found.lifecycle_stage == "deleted":
            _log.warning("MLflow experiment %r was deleted; restoring it", experiment_name)
            self.call(self.client.restore_experiment, found.experiment_id)
        return found.experiment_id

    def _get_run(self, run_id: str) -> Run | None:
        try:
            return self.call(self.client.get_run, run_id)
        except Exception as err:
            if error_code(err) == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _parent_from_attrs(self, attrs: dict, experiment_id: str, key: str) -> Run | None:
        run_id = attrs.get("mlflow_parent_run_id")
        if not run_id or attrs.get("mlflow_experiment_id") != experiment_id:
            return None
        run = self._get_run(run_id)
        ok = run is not None and run.info.lifecycle_stage == "active" and run.data.tags.get(TAG_KEY) == key
        return run if ok else None

    def _find_parent(self, experiment_id: str, key: str) -> Run | None:
        runs = self.call(
            self.client.search_runs,
            [experiment_id],
            f"tags.`{TAG_KEY}` = '{key}' and tags.`{TAG_ROLE}` = 'parent'",
            order_by=["attributes.start_time ASC"],
            max_results=10,
        )
        return min(runs, key=lambda r: (r.info.start_time, r.info.run_id)) if runs else None

    def _parent(self, experiment_id: str, key: str, study_name: str) -> Run:
        """Find or create the parent run; a lock experiment (unique name) elects one creator."""
        found = self._find_parent(experiment_id, key)
        generation = 0
        while found is None:
            lock_name = f"{LOCK_PREFIX}/{experiment_id}/{key}/{generation}"
            try:
                lock_id = self.call(self.client.create_experiment, lock_name, tags={TAG_STUDY: study_name})
            except Exception as err:
                if error_code(err) != "RESOURCE_ALREADY_EXISTS":
                    raise
                lock_id = None
            if lock_id is not None:
                found = self._find_parent(experiment_id, key) or self.call(
                    self.client.create_run,
                    experiment_id,
                    run_name=study_name,
                    tags={TAG_ROLE: "parent", TAG_KEY: key, TAG_STUDY: study_name},
                    recover=lambda: self._find_parent(experiment_id, key),
                )
                self.call(self.client.set_experiment_tag, lock_id, "parent_run_id", found.info.run_id)
                self.call(self.client.delete_experiment, lock_id)  # hidden; its name stays taken
                return found
            found = self._await_parent(experiment_id, key, lock_name)
            generation += 1
        return found

    def _await_parent(self, experiment_id: str, key: str, lock_name: str) -> Run | None:
        deadline, pause = time.monotonic() + self.retry.lock_timeout, 0.05
        while time.monotonic() < deadline:
            lock = self.call(self.client.get_experiment_by_name, lock_name)
            run_id = lock.tags.get("parent_run_id") if lock is not None else None
            if run_id:
                run = self._get_run(run_id)
                return run if run is not None and run.info.lifecycle_stage == "active" else None
            found = self._find_parent(experiment_id, key)
            if found is not None:
                return found
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        _log.warning(
            "MLflow parent-run lock %r was not released in %.0f s; taking over", lock_name, self.retry.lock_timeout
        )
        return None
