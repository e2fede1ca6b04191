"""Calling MLflow for the tracker: retries with back-off and a cool-down, and batched writes.

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
    PERMANENT_ERRORS,
    RetryPolicy,
    Unavailable,
    error_code,
    mask_url,
    redact,
    short,
)

if TYPE_CHECKING:
    import mlflow

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
