"""Backfill MLflow from Optuna storage (``stacksearch sync-mlflow``).

Optuna storage is the source of truth: :func:`sync_mlflow` gives every finished trial
exactly one complete run, ends runs left RUNNING by trials that ended (or, on request,
by workers that were killed), and never duplicates a run or a metric step.

Example:
    >>> import optuna, stacksearch as ss
    >>> study = optuna.load_study(study_name="quickstart", storage="sqlite:///stacksearch.db")  # doctest: +SKIP
    >>> print(sync_mlflow(study, ss.MLflowTracker()))  # doctest: +SKIP
    created 2, updated 1, killed 0, removed 0, unchanged 7
"""

from __future__ import annotations

import contextlib

import optuna
from optuna.trial import TrialState

from stacksearch.exceptions import TrackingError
from stacksearch.storage import fail_stale_trials
from stacksearch.tracking.runs import SyncResult, Unavailable, mask_url, short, sync_trials
from stacksearch.tracking.tracker import MLflowTracker

__all__ = ["SyncResult", "sync_mlflow", "sync_trials"]


def sync_mlflow(study: optuna.Study, tracker: MLflowTracker | None = None, *, kill_running: bool = False) -> SyncResult:
    """Backfill MLflow from Optuna storage: one complete run per finished trial, no duplicates.

    Trials that ended while MLflow was down get their runs (or the missing parts of them);
    runs left RUNNING by a trial that ended (stale heartbeats included) get its final
    state; ``kill_running`` also ends as KILLED the runs of trials still RUNNING (use it
    once no worker runs). Raises :class:`TrackingError` when MLflow cannot be reached.

    Example:
        >>> result = sync_mlflow(study, MLflowTracker("http://127.0.0.1:5000"))  # doctest: +SKIP
    """
    if tracker is None:
        tracker = MLflowTracker()
    with contextlib.suppress(Exception):
        fail_stale_trials(study)  # trials of dead workers (heartbeat storages) -> FAIL, with a fail_reason
    result = SyncResult()
    try:
        sync_trials(tracker, study, kill_running=kill_running, result=result)
        context = tracker.context(study)
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            tracker.update_best(study, context)
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) or kill_running:
            tracker.call(tracker.client.set_terminated, context.parent_run_id, "FINISHED")
    except Unavailable as err:
        raise TrackingError(
            f"cannot reach MLflow at {mask_url(tracker.tracking_uri)} ({err}); is the tracking server running?"
        ) from None
    except Exception as err:
        raise TrackingError(f"sync to MLflow at {mask_url(tracker.tracking_uri)} failed: {short(err)}") from None
    tracker.forget_pending(study.study_name)
    return result
