"""Optuna storage URLs: validation, password masking, and opening RDB storage.

Example:
    >>> mask_url("postgresql+psycopg://me:secret@db:5432/optuna")
    'postgresql+psycopg://me:***@db:5432/optuna'
    >>> check_url("redis://localhost")
    Traceback (most recent call last):
    ...
    stacksearch.exceptions.ConfigError: unsupported storage URL 'redis://localhost': use sqlite:///FILE.db, postgresql+psycopg://USER@HOST/DB or mysql+pymysql://USER@HOST/DB
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stacksearch.exceptions import ConfigError, StorageError

__all__ = ["mask_url", "check_url", "open_storage", "HEARTBEAT_INTERVAL", "GRACE_PERIOD"]

SCHEMES = ("sqlite", "postgresql", "mysql")
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 30
_HINT = "use sqlite:///FILE.db, postgresql+psycopg://USER@HOST/DB or mysql+pymysql://USER@HOST/DB"
_DRIVER_EXTRA = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql", "MySQLdb": "mysql"}


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to print or log)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def check_url(url: str) -> str:
    """Raise :class:`ConfigError` unless ``url`` is an SQLite, PostgreSQL or MySQL URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"unsupported storage URL {mask_url(url)!r}: {_HINT}") from None
    if parsed.get_backend_name() not in SCHEMES:
        raise ConfigError(f"unsupported storage URL {mask_url(url)!r}: {_HINT}")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"storage {url!r}: folder {folder} does not exist")
    return url


def open_storage(url: str, *, heartbeat: bool = True, max_retry: int = 3) -> optuna.storages.RDBStorage:
    """Open Optuna RDB storage at ``url`` with heartbeats and stale-trial retries.

    SQLite gets a 60-second busy timeout and write-ahead logging so several local
    workers can share one file. Unreachable servers and missing drivers raise
    :class:`StorageError` naming the (masked) URL and the fix.
    """
    check_url(url)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine_kwargs = {"connect_args": {"timeout": 60}} if sqlite else {"pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry) if heartbeat else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL if heartbeat else None,
                grace_period=GRACE_PERIOD if heartbeat else None,
                failed_trial_callback=retry,
            )
    except ModuleNotFoundError as err:
        extra = _DRIVER_EXTRA.get(err.name or "", "postgres")
        raise StorageError(
            f"storage {mask_url(url)}: database driver {err.name!r} is missing: "
            f'pip install "stacksearch[{extra}]"'
        ) from None
    except sqlalchemy.exc.SQLAlchemyError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise StorageError(f"cannot open storage {mask_url(url)}: {reason}; is the server running and the URL right?") from None
    if sqlite:
        with storage.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    return storage
