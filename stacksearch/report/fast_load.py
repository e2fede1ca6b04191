"""Read a study's trials straight from Optuna's RDB tables: the fast path of ``stacksearch report``.

Optuna's ``study.get_trials()`` on RDB storage builds some 30 ORM objects per trial: about
12 s for 10,000 trials. :func:`read_trials` reads the same tables with SQLAlchemy Core, one
query per table, and builds the same ``FrozenTrial`` objects as Optuna's
``RDBStorage._build_frozen_trial_from_trial_model`` (parameters in internal float form
through each distribution's ``to_external_repr``, infinite and NaN values from their
``*_type`` columns, attributes from JSON, naive UTC datetimes as naive local time), sorted
by trial number as ``Study.get_trials`` returns them.

It reads only the schema it was checked against: Alembic revision :data:`SCHEMA_REVISION`
(``version_info.schema_version`` :data:`SCHEMA_VERSION`) under Optuna
:data:`OPTUNA_MAJOR`. Any other storage (in-memory, journal, gRPC), revision or Optuna
gives None, and callers fall back to Optuna's own path.

Example:
    >>> import optuna
    >>> read_trials(optuna.create_study()) is None   # in-memory storage: use Optuna's path
    True
"""

from __future__ import annotations

import datetime
import json
import logging
import math
from typing import Any

import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution, json_to_distribution
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, select

__all__ = ["read_trials", "rdb_storage", "schema_supported", "SCHEMA_REVISION", "SCHEMA_VERSION", "OPTUNA_MAJOR"]

_log = logging.getLogger(__name__)

SCHEMA_REVISION = "v3.2.0.a"  # optuna/storages/_rdb/alembic/versions/v3.2.0.a_.py, head in Optuna 5.0
SCHEMA_VERSION = 12  # optuna.storages._rdb.models.SCHEMA_VERSION
OPTUNA_MAJOR = 5  # Optuna 5 stores naive UTC datetimes (Optuna 4 stored naive local time)

# Optuna's columns, typed plainly: enums are read as their names (how SQLAlchemy stores them).
_META = MetaData()
_TRIALS = Table(
    "trials",
    _META,
    Column("trial_id", Integer, primary_key=True),
    Column("number", Integer),
    Column("study_id", Integer),
    Column("state", String),
    Column("datetime_start", DateTime),
    Column("datetime_complete", DateTime),
)
_PARAMS = Table(
    "trial_params",
    _META,
    Column("param_id", Integer, primary_key=True),
    Column("trial_id", Integer),
    Column("param_name", String),
    Column("param_value", Float),
    Column("distribution_json", Text),
)
_VALUES = Table(
    "trial_values",
    _META,
    Column("trial_value_id", Integer, primary_key=True),
    Column("trial_id", Integer),
    Column("objective", Integer),
    Column("value", Float),
    Column("value_type", String),
)
_INTERMEDIATE = Table(
    "trial_intermediate_values",
    _META,
    Column("trial_intermediate_value_id", Integer, primary_key=True),
    Column("trial_id", Integer),
    Column("step", Integer),
    Column("intermediate_value", Float),
    Column("intermediate_value_type", String),
)
_USER_ATTRS = Table(
    "trial_user_attributes",
    _META,
    Column("trial_user_attribute_id", Integer, primary_key=True),
    Column("trial_id", Integer),
    Column("key", String),
    Column("value_json", Text),
)
_SYSTEM_ATTRS = Table(
    "trial_system_attributes",
    _META,
    Column("trial_system_attribute_id", Integer, primary_key=True),
    Column("trial_id", Integer),
    Column("key", String),
    Column("value_json", Text),
)
_ALEMBIC = Table("alembic_version", _META, Column("version_num", String, primary_key=True))
_VERSION_INFO = Table(
    "version_info", _META, Column("version_info_id", Integer, primary_key=True), Column("schema_version", Integer)
)

# TrialValueType / TrialIntermediateValueType names; None: the finite value is in the value column.
_SPECIAL = {"FINITE": None, "INF_POS": math.inf, "INF_NEG": -math.inf, "NAN": math.nan}


def rdb_storage(study: optuna.Study) -> optuna.storages.RDBStorage | None:
    """The study's RDB storage (under Optuna's cache wrapper), or None for any other storage."""
    storage = getattr(study, "_storage", None)
    storage = getattr(storage, "_backend", storage)
    return storage if isinstance(storage, optuna.storages.RDBStorage) else None


def schema_supported(connection: sqlalchemy.Connection) -> bool:
    """True when the database holds the Optuna schema this module was checked against, under
    the Optuna major version it was checked with."""
    if int(optuna.__version__.split(".")[0]) != OPTUNA_MAJOR:
        return False
    try:
        revisions = connection.execute(select(_ALEMBIC.c.version_num)).scalars().all()
        versions = connection.execute(select(_VERSION_INFO.c.schema_version)).scalars().all()
    except sqlalchemy.exc.SQLAlchemyError:
        return False
    return revisions == [SCHEMA_REVISION] and versions == [SCHEMA_VERSION]


def read_trials(study: optuna.Study) -> list[FrozenTrial] | None:
    """Every trial of ``study`` read from its RDB tables, equal to ``study.get_trials()``.

    Returns None, reading nothing more, when the storage is not Optuna's RDB storage or
    its schema is not the verified one: use ``study.get_trials()`` then. The queries share
    one transaction (a repeatable-read snapshot on PostgreSQL and MySQL; on SQLite opened by
    :func:`stacksearch.storage.open_storage`, an immediate transaction, as Optuna's reads are);
    rows of trials added meanwhile are ignored.
    """
    storage = rdb_storage(study)
    if storage is None:
        return None
    engine = storage.engine
    with engine.connect() as connection:
        if engine.dialect.name in ("postgresql", "mysql"):
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if not schema_supported(connection):
                _log.info("unverified Optuna schema: reading trials through Optuna")
                return None
            return _read(connection, study._study_id)


def _read(connection: sqlalchemy.Connection, study_id: int) -> list[FrozenTrial]:
    ids = select(_TRIALS.c.trial_id).where(_TRIALS.c.study_id == study_id).scalar_subquery()
    trials = {
        row.trial_id: _Trial(row)
        for row in connection.execute(
            select(_TRIALS).where(_TRIALS.c.study_id == study_id).order_by(_TRIALS.c.trial_id)
        ).all()
    }

    def rows(table: Table, *columns: Column) -> Any:
        key = table.primary_key.columns[0]
        query = select(table.c.trial_id, *columns).where(table.c.trial_id.in_(ids)).order_by(key)
        return connection.execute(query).all()  # fetchall: much faster than row by row

    distributions: dict[str, BaseDistribution] = {}
    for trial_id, name, internal, text in rows(
        _PARAMS, _PARAMS.c.param_name, _PARAMS.c.param_value, _PARAMS.c.distribution_json
    ):
        if (trial := trials.get(trial_id)) is not None:
            dist = distributions.get(text)
            if dist is None:
                dist = distributions[text] = json_to_distribution(text)
            trial.distributions[name] = dist
            trial.params[name] = dist.to_external_repr(internal)
    for trial_id, objective, value, kind in rows(_VALUES, _VALUES.c.objective, _VALUES.c.value, _VALUES.c.value_type):
        if (trial := trials.get(trial_id)) is not None:
            trial.values.append((objective, _float(value, kind)))
    for trial_id, step, value, kind in rows(
        _INTERMEDIATE, _INTERMEDIATE.c.step, _INTERMEDIATE.c.intermediate_value, _INTERMEDIATE.c.intermediate_value_type
    ):
        if (trial := trials.get(trial_id)) is not None:
            trial.intermediate[step] = _float(value, kind)
    for trial_id, key, text in rows(_USER_ATTRS, _USER_ATTRS.c.key, _USER_ATTRS.c.value_json):
        if (trial := trials.get(trial_id)) is not None:
            trial.user_attrs[key] = json.loads(text)
    for trial_id, key, text in rows(_SYSTEM_ATTRS, _SYSTEM_ATTRS.c.key, _SYSTEM_ATTRS.c.value_json):
        if (trial := trials.get(trial_id)) is not None:
            trial.system_attrs[key] = json.loads(text)
    return sorted((t.frozen() for t in trials.values()), key=lambda t: t.number)


class _Trial:
    """One trial's rows while they are gathered."""

    __slots__ = ("row", "params", "distributions", "values", "intermediate", "user_attrs", "system_attrs")

    def __init__(self, row: Any) -> None:
        self.row = row
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, BaseDistribution] = {}
        self.values: list[tuple[int, float]] = []
        self.intermediate: dict[int, float] = {}
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}

    def frozen(self) -> FrozenTrial:
        values: list[float] | None = None
        if self.values:  # as Optuna: one slot per stored objective, filled by objective index
            values = [0] * len(self.values)
            for objective, value in self.values:
                values[objective] = value
        row = self.row
        return FrozenTrial(
            number=row.number,
            state=TrialState[row.state],
            value=None,
            values=values,
            datetime_start=_local(row.datetime_start),
            datetime_complete=_local(row.datetime_complete),
            params=self.params,
            distributions=self.distributions,
            user_attrs=self.user_attrs,
            system_attrs=self.system_attrs,
            intermediate_values=self.intermediate,
            trial_id=row.trial_id,
        )


def _float(value: float | None, kind: str) -> float:
    """The stored number: ``value`` for a ``FINITE`` one (never NULL then), else what ``kind`` names."""
    special = _SPECIAL[kind]
    if special is not None:
        return special
    assert value is not None, "Optuna stores a FINITE value as a number"
    return value


def _local(stored: datetime.datetime | None) -> datetime.datetime | None:
    """Optuna 5's TrialModel.datetime_start: naive UTC in the table, naive local time out."""
    if stored is None:
        return None
    return stored.replace(tzinfo=datetime.timezone.utc).astimezone().replace(tzinfo=None)
