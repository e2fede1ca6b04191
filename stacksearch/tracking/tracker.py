"""MLflow tracking: one experiment per study, one parent run, one nested run per trial.

The tracking package is the only code that imports MLflow, lazily: importing it stays cheap.
Optuna storage is the source of truth, so tracking never fails a trial: when MLflow is
unreachable the tracker warns once, backs off, goes on, and logs the missed trials once
MLflow answers again; :func:`stacksearch.tracking.sync_mlflow` backfills whatever is still
missing or stale.

Example:
    >>> import optuna, stacksearch as ss
    >>> tracker = ss.MLflowTracker("sqlite:///mlflow.db", log_models="best")  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=20, callbacks=[tracker])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.exceptions import TrackingError
from stacksearch.settings import resolve
from stacksearch.tracking.runs import (
    MODEL_NAME,
    RUN_STATUS,
    TAG_MODEL,
    TAG_REASON,
    TAG_STATE,
    LiveRun,
    RetryPolicy,
    StudyContext,
    Unavailable,
    check_uri,
    enable_sqlite_wal,
    final_metrics,
    improves,
    mask_url,
    model_signature,
    ms,
    param_key,
    pip_requirements,
    short,
    sync_trials,
    trial_params,
    trial_reason,
    use_tracking_uri,
)
from stacksearch.tracking.tree import RunTree

if TYPE_CHECKING:
    import keras
    import mlflow
    from mlflow.entities import Run

    from stacksearch.space import ArchSpec

__all__ = ["MLflowTracker"]

_log = logging.getLogger(__name__)
_MODEL_LOCK = threading.Lock()


class MLflowTracker(RunTree):
    """Logs an Optuna study to MLflow: usable as an Optuna callback and as a trial listener.

    One experiment per study (named ``experiment`` or after the study), exactly one parent
    run per study however many workers start at once, and a nested run ``trial-<number>``
    per trial with params, per-epoch metrics (step = epoch), final metrics, tags and a
    terminal status. ``log_models`` (``best``, ``all`` or ``none``) says whose Keras model
    is logged. Passing only ``callbacks=[MLflowTracker()]`` to ``study.optimize`` works:
    the runs are then made as trials finish, from the trial's ``history`` user attribute.
    Without ``tracking_uri`` it logs to ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``
    (:mod:`stacksearch.settings`).

    Example:
        >>> tracker = MLflowTracker("sqlite:///mlflow.db", experiment="adding")  # doctest: +SKIP
        >>> study.optimize(objective, n_trials=10, callbacks=[tracker])  # doctest: +SKIP
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        log_models: str = "best",
        client: mlflow.MlflowClient | None = None,
        retry: RetryPolicy | None = None,
        *,
        flush_every: float = 5.0,
    ) -> None:
        if log_models not in ("best", "all", "none"):
            raise TrackingError(f"tracking.log_models: {log_models!r} is not one of best, all, none")
        self.tracking_uri = check_uri(resolve("tracking_uri", flag=tracking_uri))
        self.experiment = experiment
        self.log_models = log_models
        self.retry = retry or RetryPolicy()
        self.flush_every = flush_every
        self._client = client
        self._contexts: dict[str, StudyContext] = {}
        self._live: dict[tuple[str, int], LiveRun] = {}
        self._pending: dict[str, set[int]] = {}
        self._lock = threading.RLock()
        self._setup_lock = threading.Lock()
        self._down_until = 0.0
        self._cooldown = self.retry.cooldown
        self._outage = False
        self._warned: set[str] = set()
        if self.tracking_uri.startswith(("http://", "https://")):
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(self.retry.http_retries))
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(self.retry.http_timeout))

    def __repr__(self) -> str:
        return f"MLflowTracker({mask_url(self.tracking_uri)!r}, log_models={self.log_models!r})"

    @property
    def client(self) -> mlflow.MlflowClient:
        """The MLflow client (made on first use)."""
        if self._client is None:
            import mlflow

            enable_sqlite_wal(self.tracking_uri)
            self._client = mlflow.MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def on_trial_start(self, trial: optuna.Trial, spec: ArchSpec) -> None:
        """Create the trial's run ``trial-<number>`` now (its parameters go with the first epochs)."""
        study = getattr(trial, "study", None)  # a FixedTrial has no study: nothing to track
        if study is not None:
            self._guarded("trial start", study.study_name, trial.number, self._start, trial, spec)

    def _live_run(self, trial: optuna.Trial) -> LiveRun | None:
        study = getattr(trial, "study", None)
        return None if study is None else self._live.get((study.study_name, trial.number))

    def _start(self, trial: optuna.Trial, spec: ArchSpec) -> None:
        context = self.context(trial.study)
        live = LiveRun(self.create_child(context, trial.number, trial.datetime_start), last_flush=time.monotonic())
        live.pending_params = trial_params(trial.params, trial.user_attrs, spec.widths)
        self._live[(context.study_name, trial.number)] = live
        trial.set_user_attr("mlflow_run_id", live.run_id)

    def on_epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
        """Log one epoch's Keras metrics at ``step=epoch`` (sent at most every ``flush_every`` s)."""
        live = self._live_run(trial)
        if live is None:
            return
        from mlflow.entities import Metric

        now = ms(None)
        live.buffer += [
            Metric(param_key(k), float(v), now, int(epoch)) for k, v in logs.items() if isinstance(v, (int, float))
        ]
        if time.monotonic() - live.last_flush < self.flush_every:
            return
        try:
            self.log_batch(live.run_id, metrics=live.buffer, params=live.pending_params)
            live.params.update(live.pending_params)
            live.pending_params = {}
        except Exception as err:  # noqa: BLE001 - missed epochs are filled in at the end
            live.dirty = True
            if not isinstance(err, Unavailable):
                self._warn_once("epoch", f"MLflow tracking: logging epochs failed: {short(err)}")
        live.buffer, live.last_flush = [], time.monotonic()

    def on_trial_end(self, trial: optuna.Trial, model: keras.Model | None, value: float | None) -> None:
        """Log the trial's model (with its best weights) if ``log_models`` asks for it."""
        live = self._live_run(trial)
        if model is None or live is None or self.log_models == "none":
            return
        if self.log_models == "best" and not improves(trial.study, value):
            return
        self._guarded("model logging", None, None, self._log_model, trial.study, live, model)

    def _log_model(self, study: optuna.Study, live: LiveRun, model: keras.Model) -> None:
        import mlflow.keras
        from mlflow.models import Model

        context = self.context(study)
        logged = self.call(
            self.client.create_logged_model,
            experiment_id=context.experiment_id,
            name=MODEL_NAME,
            source_run_id=live.run_id,
            model_type="keras",
        )
        try:
            with _MODEL_LOCK, use_tracking_uri(self.tracking_uri):
                Model.log(
                    artifact_path=None,
                    name=MODEL_NAME,
                    flavor=mlflow.keras,
                    run_id=live.run_id,
                    model_id=logged.model_id,
                    model=model,
                    signature=model_signature(model),
                    pip_requirements=pip_requirements(),
                )
        except Exception:
            with contextlib.suppress(Exception):
                self.client.finalize_logged_model(logged.model_id, "FAILED")
            raise
        live.model_uri = f"runs:/{live.run_id}/{MODEL_NAME}"
        self.log_batch(live.run_id, tags={TAG_MODEL: live.model_uri})

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Optuna callback: finish the trial's run (or make it, when no hook made one)."""
        self._guarded("trial end", study.study_name, trial.number, self._finish, study, trial)
        if self._pending.get(study.study_name) and time.monotonic() >= self._down_until:
            self._guarded("backfill", None, None, self._drain, study)

    def _finish(self, study: optuna.Study, trial: FrozenTrial) -> None:
        context = self.context(study)
        live = self._live.pop((context.study_name, trial.number), None)
        run = None
        if live is None:
            run = self._existing_child(context, trial)
            history = "missing" if run is not None else "all"
            live = LiveRun(run.info.run_id if run else self.create_child(context, trial.number, trial.datetime_start))
        else:
            history = "missing" if live.dirty else "none"
        try:
            self.write_trial(
                context,
                live.run_id,
                trial,
                run=run,
                history=history,
                known_params=live.params,
                extra=live.buffer if history == "none" else (),
            )
        except Exception:
            live.dirty = True
            self._live[(context.study_name, trial.number)] = live
            raise
        if (
            trial.state == TrialState.COMPLETE
            and len(study.directions) == 1
            and study.best_trial.number == trial.number
        ):
            self.update_best(study, context, trial, live.run_id, live.model_uri)

    def _existing_child(self, context: StudyContext, trial: FrozenTrial) -> Run | None:
        run_id = trial.user_attrs.get("mlflow_run_id")
        run = self._get_run(run_id) if run_id else None
        if run is not None and run.info.experiment_id == context.experiment_id and run.info.lifecycle_stage == "active":
            return run
        return self._find_child(context, trial.number)

    def write_trial(
        self,
        context: StudyContext,
        run_id: str,
        trial: FrozenTrial,
        *,
        run: Run | None = None,
        history: str = "missing",
        known_params: dict[str, str] | None = None,
        extra: Iterable[Any] = (),
    ) -> None:
        """Log what Optuna storage holds about a finished ``trial`` into its run, then end it.

        ``history``: ``all`` epochs (a run just made), the ``missing`` ones (looked up, so
        writing twice never duplicates), or ``none`` (logged live already, but for ``extra``).
        """
        from mlflow.entities import Metric

        existing = dict(run.data.params) if run is not None else dict(known_params or {})
        params = {k: v for k, v in trial_params(trial.params, trial.user_attrs).items() if k not in existing}
        stop = ms(trial.datetime_complete)
        logged = run.data.metrics if run is not None else {}
        metrics = [Metric(k, v, stop, 0) for k, v in final_metrics(trial).items() if logged.get(k) != v]
        metrics += list(extra)
        if history != "none":
            metrics += self._epochs(run_id, trial, missing_only=history == "missing")
        tags = {TAG_STATE: trial.state.name}
        reason = trial_reason(trial)
        if reason:
            tags[TAG_REASON] = reason[:5000]
        self.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        status = RUN_STATUS.get(trial.state.name)
        if status:
            self.call(self.client.set_terminated, run_id, status, end_time=stop)

    def _epochs(self, run_id: str, trial: FrozenTrial, *, missing_only: bool) -> list:
        from mlflow.entities import Metric

        start, stop = ms(trial.datetime_start), ms(trial.datetime_complete)
        out = []
        for key, values in (trial.user_attrs.get("history") or {}).items():
            if not isinstance(values, list) or not values:
                continue
            have = set()
            if missing_only:
                have = {m.step for m in self.call(self.client.get_metric_history, run_id, param_key(key))}
            step_ms = (stop - start) / len(values)
            out += [
                Metric(param_key(key), float(v), int(start + (i + 1) * step_ms), i)
                for i, v in enumerate(values)
                if i not in have and isinstance(v, (int, float))
            ]
        return out

    def update_best(
        self,
        study: optuna.Study,
        context: StudyContext,
        best: FrozenTrial | None = None,
        run_id: str | None = None,
        model_uri: str | None = None,
    ) -> None:
        """Tag the parent run with the best trial so far (``best_value`` metric: step = trial)."""
        from mlflow.entities import Metric

        if len(study.directions) > 1:
            front = sorted(t.number for t in study.best_trials)
            self.log_batch(context.parent_run_id, tags={"stacksearch.pareto_front": json.dumps(front)})
            return
        if best is None:
            best = study.best_trial
            found = self._existing_child(context, best)
            run_id = found.info.run_id if found else None
            model_uri = found.data.tags.get(TAG_MODEL) if found else None
        tags = {"stacksearch.best_trial": str(best.number), "stacksearch.best_run_id": run_id or ""}
        tags.update({f"best.{k}": v for k, v in trial_params(best.params, best.user_attrs).items()})
        if model_uri:
            tags["stacksearch.best_model_uri"] = model_uri
        metrics = [Metric("best_value", float(best.values[0]), ms(best.datetime_complete), best.number)]
        self.log_batch(context.parent_run_id, metrics=metrics, tags=tags)

    def _drain(self, study: optuna.Study) -> None:
        with self._lock:
            numbers = sorted(self._pending.get(study.study_name, ()))
        if not numbers:
            return
        done = sync_trials(self, study, numbers)
        with self._lock:
            self._pending[study.study_name].difference_update(done)

    def forget_pending(self, study_name: str) -> None:
        """Drop the trials waiting to be logged for a study (a sync has just written them all)."""
        with self._lock:
            self._pending.pop(study_name, None)

    def close(self, study: optuna.Study) -> None:
        """Log missed trials, the best trial, and finish the parent run if no trial still runs."""

        def close() -> None:
            context = self.context(study)
            self._drain(study)
            if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
                self.update_best(study, context)
            if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                self.call(self.client.set_terminated, context.parent_run_id, "FINISHED")

        self._guarded("close", None, None, close)

    def tag_verdict(self, study: optuna.Study, call: str) -> None:
        """Tag the study's parent run ``stacksearch.verdict`` with the report's call (e.g. ``depth_wins``).

        Example:
            >>> MLflowTracker("sqlite:///mlflow.db").tag_verdict(study, "equivalent")  # doctest: +SKIP
        """

        def tag() -> None:
            self.log_batch(self.context(study).parent_run_id, tags={"stacksearch.verdict": call})

        self._guarded("verdict tag", None, None, tag)

    def log_report(self, study: optuna.Study, path: str | os.PathLike) -> None:
        """Attach a report folder (or file) to the study's parent run under ``report/``."""

        def upload() -> None:
            context, path_ = self.context(study), Path(path)
            log = self.client.log_artifacts if path_.is_dir() else self.client.log_artifact
            self.call(log, context.parent_run_id, str(path_), "report")

        self._guarded("report upload", None, None, upload)
