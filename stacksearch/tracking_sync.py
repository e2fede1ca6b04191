"""Backfill MLflow from Optuna storage (``stacksearch sync-mlflow``) and serve the MLflow UI.

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
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.exceptions import TrackingError
from stacksearch.tracking_util import (
    RUN_STATUS, TAG_KEY, TAG_REASON, TAG_ROLE, TAG_STATE, TAG_TRIAL, StudyContext, Unavailable, mask_url, short,
)

if TYPE_CHECKING:
    from mlflow.entities import Run

    from stacksearch.tracking import MLflowTracker

__all__ = ["SyncResult", "sync_mlflow", "sync_trials", "serve_ui", "stop_ui"]

_DONE = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclass
class SyncResult:
    """Trial numbers by what :func:`sync_mlflow` did to their runs."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return ", ".join(f"{name} {len(getattr(self, name))}" for name in
                         ("created", "updated", "killed", "removed", "unchanged"))


def _trial_runs(tracker: "MLflowTracker", context: StudyContext) -> dict[int, list["Run"]]:
    """Every active trial run of the study, by trial number, oldest first."""
    runs: dict[int, list[Run]] = {}
    token = None
    while True:
        page = tracker._call(tracker.client.search_runs, [context.experiment_id],
                             f"tags.`{TAG_KEY}` = '{context.key}' and tags.`{TAG_ROLE}` = 'trial'",
                             max_results=1000, page_token=token)
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


def _stale(run: "Run", trial: FrozenTrial) -> bool:
    return run.info.status != RUN_STATUS[trial.state.name] or run.data.tags.get(TAG_STATE) != trial.state.name


def _keep_one(tracker: "MLflowTracker", trial: FrozenTrial, runs: list["Run"], result: SyncResult) -> "Run | None":
    if not runs:
        return None
    wanted = trial.user_attrs.get("mlflow_run_id")
    keep = next((r for r in runs if r.info.run_id == wanted), runs[0])
    for run in runs:
        if run is not keep:
            tracker._call(tracker.client.delete_run, run.info.run_id)
            result.removed.append(trial.number)
    return keep


def _sync_one(tracker: "MLflowTracker", context: StudyContext, trial: FrozenTrial, runs: list["Run"],
              result: SyncResult, kill_running: bool) -> None:
    run = _keep_one(tracker, trial, runs, result)
    if trial.state not in _DONE:
        if run is not None and kill_running and run.info.status == "RUNNING" and trial.state == TrialState.RUNNING:
            tracker._log_batch(run.info.run_id, tags={TAG_STATE: "RUNNING", TAG_REASON: "worker stopped (killed by sync)"})
            tracker._call(tracker.client.set_terminated, run.info.run_id, "KILLED")
            result.killed.append(trial.number)
        else:
            result.unchanged.append(trial.number)
        return
    if run is None:
        run_id = tracker._create_child(context, trial.number, trial.datetime_start)
        tracker.write_trial(context, run_id, trial, history="all", known_params={})
        result.created.append(trial.number)
    elif _stale(run, trial):
        tracker.write_trial(context, run.info.run_id, trial, run=run, history="missing")
        result.updated.append(trial.number)
    else:
        result.unchanged.append(trial.number)


def sync_trials(tracker: "MLflowTracker", study: optuna.Study, numbers: Iterable[int] | None = None, *,
                kill_running: bool = False, result: SyncResult | None = None) -> set[int]:
    """Bring the runs of the given trials (all when ``None``) in line with storage.

    Returns the trial numbers whose runs are now complete or were left alone on purpose.
    """
    context = tracker._context(study)
    wanted = None if numbers is None else set(numbers)
    runs = _trial_runs(tracker, context)
    result = result if result is not None else SyncResult()
    done: set[int] = set()
    for trial in study.get_trials(deepcopy=False):
        if wanted is not None and trial.number not in wanted:
            continue
        if wanted is not None and trial.state not in _DONE:
            continue
        _sync_one(tracker, context, trial, runs.get(trial.number, []), result, kill_running)
        done.add(trial.number)
    return done


def sync_mlflow(study: optuna.Study, tracker: "MLflowTracker | None" = None, *,
                kill_running: bool = False) -> SyncResult:
    """Backfill MLflow from Optuna storage: one complete run per finished trial, no duplicates.

    Trials that ended while MLflow was down get their runs (or the missing parts of them);
    runs left RUNNING by a trial that ended (stale heartbeats included) get its final
    state; ``kill_running`` also ends as KILLED the runs of trials still RUNNING (use it
    once no worker runs). Raises :class:`TrackingError` when MLflow cannot be reached.

    Example:
        >>> result = sync_mlflow(study, MLflowTracker("http://127.0.0.1:5000"))  # doctest: +SKIP
    """
    if tracker is None:
        from stacksearch.tracking import MLflowTracker

        tracker = MLflowTracker()
    from stacksearch.storage import fail_stale_trials

    with contextlib.suppress(Exception):
        fail_stale_trials(study)  # trials of dead workers (heartbeat storages) -> FAIL, with a fail_reason
    result = SyncResult()
    try:
        sync_trials(tracker, study, kill_running=kill_running, result=result)
        context = tracker._context(study)
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            tracker._update_best(study, context)
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) or kill_running:
            tracker._call(tracker.client.set_terminated, context.parent_run_id, "FINISHED")
    except Unavailable as err:
        raise TrackingError(f"cannot reach MLflow at {mask_url(tracker.tracking_uri)} ({err}); "
                            "is the tracking server running?") from None
    except Exception as err:
        raise TrackingError(f"sync to MLflow at {mask_url(tracker.tracking_uri)} failed: {short(err)}") from None
    with tracker._lock:
        tracker._pending.pop(study.study_name, None)
    return result


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def serve_ui(tracking_uri: str | None = None, port: int = 5000, *, host: str = "127.0.0.1", block: bool = True,
             timeout: float = 180.0, echo=print) -> "subprocess.Popen | None":
    """Start the MLflow UI on ``host:port`` against ``tracking_uri`` and print its address.

    With ``block`` it serves until Ctrl-C; otherwise it returns the running server process
    once the UI answers (stop it with :func:`stop_ui`). An ``http(s)://`` tracking URI is
    already a server: its address is printed and nothing is started.

    Example:
        >>> serve_ui("sqlite:///mlflow.db", 5000)  # doctest: +SKIP
        MLflow UI: http://127.0.0.1:5000  (tracking sqlite:///mlflow.db; Ctrl-C stops it)
    """
    from stacksearch.config import DEFAULT_TRACKING_URI
    from stacksearch.tracking_util import check_uri

    uri = check_uri(tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)
    if uri.startswith(("http://", "https://")):
        echo(f"MLflow UI: {mask_url(uri)}  (the tracking server itself)")
        return None
    url = f"http://{host}:{port}"
    if _healthy(url):
        raise TrackingError(f"port {port} is already serving something at {url}; choose another --port")
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": uri}  # not on the command line: ps shows that
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")  # GenAI job runners: 7 idle processes
    command = [sys.executable, "-m", "mlflow", "server", "--host", host, "--port", str(port), "--workers", "1"]
    quiet = None if block else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_ui(process)
            raise TrackingError(f"the MLflow UI did not start on {url} (tracking {mask_url(uri)})")
        time.sleep(0.5)
    echo(f"MLflow UI: {url}  (tracking {mask_url(uri)}{'; Ctrl-C stops it' if block else ''})")
    if not block:
        return process
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_ui(process)
    return None


def stop_ui(process: "subprocess.Popen", grace: float = 10.0) -> None:
    """Stop a server that :func:`serve_ui` started (its whole process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
