"""Optuna storage URLs: validation, password masking, and opening RDB storage.

Every worker of a study opens the same RDB storage: PostgreSQL or MySQL/MariaDB for
many machines, SQLite for one machine. Heartbeats mark a killed worker's RUNNING trial
FAIL after ``grace_period`` seconds (twice that if it died before its first heartbeat),
and :class:`optuna.storages.RetryHeartbeatStaleTrialCallback` queues a copy of it (same
parameters, system attribute ``failed_trial``) for a surviving worker; hooks added with
:func:`add_stale_hook` (the MLflow tracker's) run first.

SQLite serves several local workers through write-ahead logging, a busy timeout and
``BEGIN IMMEDIATE`` transactions (see docs/scaling.md for the measurements).

Example:
    >>> mask_url("postgresql+psycopg://me:secret@db:5432/optuna")
    'postgresql+psycopg://me:***@db:5432/optuna'
    >>> mask_url("https://me:secret@mlflow:5000/?token=abc")
    'https://me:***@mlflow:5000/?token=***'
    >>> check_url("redis://localhost")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stacksearch.exceptions.ConfigError: unsupported storage URL 'redis://localhost': use sqlite:///FILE.db, ...
"""

from __future__ import annotations

import copy
import logging
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import TrialState
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stacksearch.exceptions import ConfigError, StorageError
from stacksearch.settings import GRACE_PERIOD, HEARTBEAT_INTERVAL

__all__ = [
    "mask_url",
    "redact",
    "check_url",
    "open_storage",
    "is_sqlite",
    "sqlite_file",
    "add_stale_hook",
    "StaleTrialHandler",
    "fail_stale_trials",
    "orphan_trial_ids",
    "HEARTBEAT_INTERVAL",
    "GRACE_PERIOD",
    "SQLITE_BUSY_TIMEOUT",
]

_log = logging.getLogger(__name__)
SCHEMES = ("sqlite", "postgresql", "mysql")
SQLITE_BUSY_TIMEOUT = 60
_HINT = "use sqlite:///FILE.db, postgresql+psycopg://USER@HOST/DB or mysql+pymysql://USER@HOST/DB"
_DRIVER_EXTRA = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql", "MySQLdb": "mysql"}
_NOT_INHERITED = ("mlflow_run_id", "fail_reason", "reject_reason", "prune_reason", "resumed_from_epoch", "worker")
StaleHook = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


_USERINFO = re.compile(r"([A-Za-z][\w+.-]*://[^:/@\s]*:)[^\s/]*@")
_SECRET_QUERY = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api_key)=([^&\s]+)")


def redact(text: str) -> str:
    """``text`` with passwords in URLs (``user:pw@``, ``?password=``) replaced by ``***``.

    Example:
        >>> redact("failed: mysql+pymysql://root:pw@h/db")
        'failed: mysql+pymysql://root:***@h/db'
    """
    return _SECRET_QUERY.sub(r"\1=***", _USERINFO.sub(r"\1***@", text))


def mask_url(url: str) -> str:
    """A storage or tracking URL (SQLAlchemy, ``http(s)://``) safe to print or log: its password
    and any secret query parameter (``password``, ``token``, ...) replaced by ``***``."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        shown = re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)
    return redact(shown)


def is_sqlite(url: str) -> bool:
    """Whether ``url`` is an SQLite URL (one machine only)."""
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except (ArgumentError, ValueError):
        return False


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (None for other URLs, in-memory SQLite and bad URLs).

    Example:
        >>> sqlite_file("sqlite:///runs/study.db"), sqlite_file("sqlite:///:memory:")
        (PosixPath('runs/study.db'), None)
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def check_url(url: str) -> str:
    """Raise :class:`ConfigError` unless ``url`` is an SQLite, PostgreSQL or MySQL URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"unsupported storage URL {mask_url(url)!r}: {_HINT}") from None
    if parsed.get_backend_name() not in SCHEMES:
        raise ConfigError(f"unsupported storage URL {mask_url(url)!r}: {_HINT}")
    database = sqlite_file(url)
    if database is not None:
        folder = database.resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"storage {url!r}: folder {folder} does not exist")
    return url


class StaleTrialHandler:
    """Optuna's heartbeat-stale callback: run hooks, then retry the trial.

    ``hooks`` (for example the MLflow tracker marking the dead trial's run) are called
    with the study and the trial, now FAIL; an error in a hook is logged, never raised,
    so the retry always happens. The retry is Optuna's own
    :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`.
    """

    def __init__(self, max_retry: int | None = 3) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self.retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        self.hooks: list[StaleHook] = []

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        _log.warning("trial %d lost its worker (no heartbeat): marked FAIL and queued for retry", trial.number)
        for hook in self.hooks:
            try:
                hook(study, trial)
            except Exception as err:  # noqa: BLE001 - a hook must not block the retry
                _log.warning("stale-trial hook %r failed for trial %d: %s", hook, trial.number, err)
        queued = copy.copy(trial)  # the copy must not claim the dead trial's MLflow run or outcome
        queued.user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in _NOT_INHERITED}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self.retry(study, queued)


def add_stale_hook(storage: optuna.storages.BaseStorage, hook: StaleHook) -> bool:
    """Call ``hook(study, trial)`` when a trial of ``storage`` is found stale; False if unsupported."""
    getter = getattr(storage, "get_heartbeat_stale_trial_callback", None)  # also through Optuna's cache
    handler = getter() if getter is not None else None
    if not isinstance(handler, StaleTrialHandler):
        return False
    if hook not in handler.hooks:
        handler.hooks.append(hook)
    return True


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail the study's trials whose worker is gone, saying why, and queue their retries.

    Two kinds of RUNNING trial are stale: one whose heartbeats stopped ``grace_period``
    seconds ago (Optuna's rule, as in :func:`optuna.storages.fail_stale_trials`), and one
    that never had a heartbeat and started more than twice the grace period ago (its
    worker was killed between creating it and its first heartbeat, which Optuna's rule
    cannot see; see :func:`orphan_trial_ids`). Each gets ``fail_reason`` first, while it
    can still be written, then FAIL, then the storage's stale-trial callback (hooks and
    retry), in one pass as Optuna's function does for the first kind.
    Storages without heartbeats are left alone.
    """
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    find = getattr(backend, "_get_stale_trial_ids", None)
    interval = getattr(backend, "heartbeat_interval", None)
    if find is None or interval is None:
        return
    grace = getattr(backend, "grace_period", None) or 2 * interval
    reasons = dict.fromkeys(find(study._study_id), f"worker lost: no heartbeat for {grace} s (killed or hung); retried")
    if isinstance(backend, optuna.storages.RDBStorage):
        reasons.update(
            dict.fromkeys(
                orphan_trial_ids(backend, study._study_id, 2 * grace),
                f"worker lost: no heartbeat ever arrived in {2 * grace} s since the trial started "
                "(killed while starting it); retried",
            )
        )
    failed: list[int] = []
    for trial_id, reason in reasons.items():
        try:
            storage.set_trial_user_attr(trial_id, "fail_reason", reason)
            if storage.set_trial_state_values(trial_id, TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker failed it first
    callback = storage.get_heartbeat_stale_trial_callback() if isinstance(storage, BaseHeartbeat) else None
    if callback is not None:
        for trial_id in failed:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))


def orphan_trial_ids(storage: optuna.storages.RDBStorage, study_id: int, older_than: float) -> list[int]:
    """IDs of the study's RUNNING trials without a heartbeat row that started over ``older_than`` s ago.

    One query. Optuna writes ``datetime_start`` as naive UTC from the creating worker's
    clock, so it is compared with this machine's UTC clock (not the database server's,
    whose time zone varies); ``older_than`` must cover clock differences between machines
    and a slow first heartbeat. A trial with any heartbeat is never returned.
    """
    from optuna.storages._rdb import models

    trials = models.TrialModel.__table__
    beats = models.TrialHeartbeatModel.__table__
    cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=older_than)
    query = (
        sqlalchemy.select(trials.c.trial_id)
        .select_from(trials.outerjoin(beats, beats.c.trial_id == trials.c.trial_id))
        .where(
            trials.c.study_id == study_id,
            trials.c.state == TrialState.RUNNING,
            beats.c.trial_id.is_(None),
            trials.c.datetime_start < cutoff,
        )
        .order_by(trials.c.trial_id)
    )
    with storage.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def _serialize_sqlite(engine: sqlalchemy.engine.Engine) -> None:
    """Make every SQLite transaction ``BEGIN IMMEDIATE`` with WAL and a busy timeout.

    Optuna's transactions read, then write. Under SQLite's default deferred transactions
    two workers can both read, and the second to write then fails at once with "database
    is locked" (the busy timeout cannot help a reader holding a stale snapshot). Taking the
    write lock at BEGIN makes the busy timeout apply and serialises the few writers.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened while Optuna created the tables lack the listeners


def open_storage(
    url: str,
    *,
    heartbeat: bool = True,
    max_retry: int | None = 3,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    grace_period: int | None = GRACE_PERIOD,
) -> optuna.storages.RDBStorage:
    """Open Optuna RDB storage at ``url`` with heartbeats and stale-trial retries.

    With ``heartbeat``, a RUNNING trial whose worker has sent no heartbeat for
    ``grace_period`` seconds (default: twice ``heartbeat_interval`` when None) is failed
    by the next worker that looks, and retried up to ``max_retry`` times. SQLite gets a
    busy timeout, write-ahead logging and immediate transactions so several local workers
    can share one file. Unreachable servers and missing drivers raise
    :class:`StorageError` naming the (masked) URL and the fix.

    Example:
        >>> storage = open_storage("sqlite:///:memory:", heartbeat_interval=1, grace_period=3)
        >>> storage.heartbeat_interval, storage.grace_period
        (1, 3)
    """
    check_url(url)
    if heartbeat and (int(heartbeat_interval) < 1 or (grace_period is not None and int(grace_period) < 1)):
        raise ConfigError(
            f"heartbeat interval {heartbeat_interval} and grace period {grace_period} must be whole seconds >= 1"
        )
    sqlite = is_sqlite(url)
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT}} if sqlite else {"pool_pre_ping": True}
    )
    handler = StaleTrialHandler(max_retry=max_retry) if heartbeat else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=int(heartbeat_interval) if heartbeat else None,
                grace_period=(int(grace_period) if grace_period is not None else None) if heartbeat else None,
                heartbeat_stale_trial_callback=handler,
            )
    except ModuleNotFoundError as err:
        extra = _DRIVER_EXTRA.get(err.name or "", "postgres")
        raise StorageError(
            f'storage {mask_url(url)}: database driver {err.name!r} is missing: pip install "stacksearch[{extra}]"'
        ) from None
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        cause = getattr(err, "orig", None) or err.__cause__ or err
        reason = str(getattr(cause, "orig", cause)).strip().splitlines()[0]
        raise StorageError(
            f"cannot open storage {mask_url(url)}: {reason}; is the server running and the URL right?"
        ) from None
    if sqlite_file(url) is not None:
        _serialize_sqlite(storage.engine)
    return storage
