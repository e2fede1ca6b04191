"""The limit ratio of a run: its worker-seconds against the steady epochs its trials trained.

At the end of ``stacksearch run``, :func:`record_limit` sums the steady seconds
(:func:`stacksearch.steady.steady_total`) of every search trial and retraining that ended during
this run, adds this run's wall time and workers to what earlier runs of the study recorded, and
stores the total as the study's ``limit`` user attribute, which the report's cost section prints.

Example:
    >>> limit_line({"wall_seconds": 95.0, "workers": 1, "steady_seconds": 41.0, "ratio": 2.317})
    'limit: wall 95 s, of which steady epochs 41 s: 2.3x the limit'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from stacksearch.search.confirming import confirm_name
from stacksearch.states import ENDED
from stacksearch.steady import TrialTiming, limit_ratio, steady_total

__all__ = ["record_limit", "limit_line", "run_timings", "trial_timing"]


def run_timings(study: optuna.Study, since: float) -> list[TrialTiming]:
    """(epochs, epoch seconds, parameters) of the study's and its confirmation's trials that ended after ``since``."""
    start = dt.datetime.fromtimestamp(since)
    trials = list(study.get_trials(deepcopy=False, states=ENDED))
    try:
        sibling = optuna.load_study(study_name=confirm_name(study.study_name), storage=study._storage)
        trials += sibling.get_trials(deepcopy=False, states=ENDED)
    except KeyError:
        pass
    return [trial_timing(t) for t in trials if t.datetime_complete is not None and t.datetime_complete >= start]


def trial_timing(trial: FrozenTrial) -> TrialTiming:
    """A finished trial's (epochs trained, epoch seconds, parameter count), as :mod:`stacksearch.steady` reads them."""
    attrs = trial.user_attrs
    return int(attrs.get("epochs_trained") or 0), list(attrs.get("epoch_seconds") or []), attrs.get("n_params")


def record_limit(study: optuna.Study, *, since: float, now: float, workers: int) -> dict[str, Any]:
    """Add this run (from ``since`` to ``now``, ``workers`` processes) to the study's ``limit`` attribute."""
    earlier = study.user_attrs.get("limit") or {}
    wall = float(earlier.get("wall_seconds", 0.0)) + (now - since)
    worker_seconds = float(earlier.get("worker_seconds", 0.0)) + (now - since) * max(1, workers)
    steady = float(earlier.get("steady_seconds", 0.0)) + steady_total(run_timings(study, since))
    ratio = limit_ratio(worker_seconds, 1, steady)
    record = {
        "wall_seconds": round(wall, 1),
        "workers": workers,
        "worker_seconds": round(worker_seconds, 1),
        "steady_seconds": round(steady, 1),
        "ratio": None if ratio is None else round(ratio, 3),
        "runs": int(earlier.get("runs", 0)) + 1,
    }
    study.set_user_attr("limit", record)
    return record


def limit_line(record: dict[str, Any]) -> str:
    """The run summary's line: wall time, steady epochs, and their ratio."""
    wall = f"wall {record['wall_seconds']:.0f} s"
    if record.get("workers", 1) > 1:
        wall += f" x {record['workers']} workers"
    if record.get("ratio") is None:
        return f"limit: {wall}, no epoch trained"
    return f"limit: {wall}, of which steady epochs {record['steady_seconds']:.0f} s: {record['ratio']:.1f}x the limit"
