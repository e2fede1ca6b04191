"""Storage helpers for tests: move a trial's clock into the past, as a dead worker's trial would be."""

from __future__ import annotations

from datetime import timedelta

import optuna
import sqlalchemy

__all__ = ["backdate"]


def backdate(study: optuna.Study, trial_id: int, seconds: float, heartbeat: bool = False) -> None:
    """Move a trial's start (or its heartbeat) ``seconds`` into the past, on the clock that wrote it."""
    from optuna.storages._rdb import models

    table = (models.TrialHeartbeatModel if heartbeat else models.TrialModel).__table__
    column = table.c.heartbeat if heartbeat else table.c.datetime_start
    with study._storage._backend.engine.begin() as connection:
        value = connection.execute(sqlalchemy.select(column).where(table.c.trial_id == trial_id)).scalar_one()
        connection.execute(
            table.update().where(table.c.trial_id == trial_id).values({column.name: value - timedelta(seconds=seconds)})
        )
