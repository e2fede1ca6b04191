"""The tracker's run tree in MLflow: a study's experiment, its one parent run (race-safe), and trial runs.

Example:
    >>> class Tracker(RunTree): ...  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import optuna

from stacksearch.exceptions import TrackingError
from stacksearch.tracking.calls import TrackerBase
from stacksearch.tracking.runs import (
    LOCK_PREFIX,
    PERMANENT_ERRORS,
    TAG_KEY,
    TAG_PARENT,
    TAG_ROLE,
    TAG_STATE,
    TAG_STUDY,
    TAG_TRIAL,
    StudyContext,
    Unavailable,
    error_code,
    flatten,
    fmt,
    mask_url,
    ms,
    short,
    sqlite_path,
    study_key,
)

if TYPE_CHECKING:
    from mlflow.entities import Run

__all__ = ["RunTree"]

_log = logging.getLogger("stacksearch.tracking")


class RunTree(TrackerBase):
    """Finds or makes the runs a study is logged to: one experiment, one parent run, a run per trial."""

    experiment: str | None
    _contexts: dict[str, StudyContext]
    _setup_lock: threading.Lock

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

    # -- experiment and parent run ---------------------------------------------------------

    def setup(
        self,
        study: optuna.Study,
        *,
        space: dict | None = None,
        benchmark: dict | None = None,
        config: dict | None = None,
    ) -> None:
        """Find or create the study's experiment and its one parent run; describe the search.

        Called once per worker. Keeps ``mlflow_experiment_id`` and ``mlflow_parent_run_id``
        in the study's user attributes. A misconfigured tracking store raises
        :class:`TrackingError`; an unreachable one only warns (trials are logged later).
        """
        try:
            self._open(study, space=space, benchmark=benchmark, config=config)
        except Unavailable:
            return
        except Exception as err:
            if error_code(err) in PERMANENT_ERRORS or isinstance(err, TrackingError):
                raise TrackingError(f"MLflow tracking at {mask_url(self.tracking_uri)}: {short(err)}") from None
            self._warn_once("setup", f"MLflow tracking setup failed: {short(err)}")

    def context(self, study: optuna.Study) -> StudyContext:
        context = self._contexts.get(study.study_name)
        return context if context is not None else self._open(study)

    def _open(
        self,
        study: optuna.Study,
        *,
        space: dict | None = None,
        benchmark: dict | None = None,
        config: dict | None = None,
    ) -> StudyContext:
        with self._setup_lock:
            name, attrs = study.study_name, study.user_attrs
            context = self._contexts.get(name)
            if context is None:
                experiment_id = self._experiment(self.experiment or self._known_experiment(attrs, name) or name, name)
                parent = self._parent_from_attrs(attrs, experiment_id, study_key(name))
                parent = parent or self._parent(experiment_id, study_key(name), name)
                context = StudyContext(name, study_key(name), experiment_id, parent.info.run_id)
                if attrs.get("mlflow_experiment_id") != experiment_id:
                    study.set_user_attr("mlflow_experiment_id", experiment_id)
                if attrs.get("mlflow_parent_run_id") != context.parent_run_id:
                    study.set_user_attr("mlflow_parent_run_id", context.parent_run_id)
                if parent.info.status != "RUNNING":
                    self.call(self.client.update_run, context.parent_run_id, status="RUNNING")
                self._describe(context, parent, attrs, space, benchmark, config)
                self._contexts[name] = context
            elif config is not None or space is not None:
                self._describe(
                    context, self.call(self.client.get_run, context.parent_run_id), attrs, space, benchmark, config
                )
            return context

    def _describe(
        self,
        context: StudyContext,
        parent: Run,
        attrs: dict,
        space: dict | None,
        benchmark: dict | None,
        config: dict | None,
    ) -> None:
        from mlflow.entities import Metric

        params = flatten("space", space if space is not None else attrs.get("space"), {})
        flatten("benchmark", benchmark if benchmark is not None else attrs.get("benchmark"), params)
        params = {k: v for k, v in params.items() if k not in parent.data.params}
        tags = {f"stacksearch.{k}": fmt(attrs[k]) for k in ("metric", "direction") if k in attrs}
        if config is not None:
            tags["stacksearch.config"] = fmt(config)
        metrics = [
            Metric(k, float(attrs[k]), ms(None), 0)
            for k in ("baseline",)
            if isinstance(attrs.get(k), (int, float)) and k not in parent.data.metrics
        ]
        reference = attrs.get("reference")
        if (
            isinstance(reference, dict)
            and isinstance(reference.get("value"), (int, float))
            and "reference" not in parent.data.metrics
        ):
            metrics.append(Metric("reference", float(reference["value"]), ms(None), 0))
        self.log_batch(context.parent_run_id, metrics=metrics, tags=tags)
        for attempt in range(2):  # workers starting together race to log the same params
            try:
                self.log_batch(context.parent_run_id, params=params)
                return
            except Unavailable:
                raise
            except Exception as err:  # noqa: BLE001 - logged by another worker meanwhile
                logged = self.call(self.client.get_run, context.parent_run_id).data.params
                params = {k: v for k, v in params.items() if k not in logged}
                if attempt or not params:
                    _log.debug("search description not logged: %s", short(err))

    def nest(self, study: optuna.Study, under: optuna.Study) -> None:
        """Show ``study``'s parent run inside ``under``'s in the MLflow UI (a confirmation under its search).

        Example:
            >>> tracker.nest(confirm_study, search_study)  # doctest: +SKIP
        """

        parent = under.user_attrs.get("mlflow_parent_run_id")  # not under's context: that would reopen its run
        if not parent:
            return

        def tag() -> None:
            self.log_batch(self.context(study).parent_run_id, tags={TAG_PARENT: str(parent)})

        self._guarded("nesting the confirmation", None, None, tag)

    # -- trial runs ---------------------------------------------------------------------------

    def _find_child(self, context: StudyContext, number: int) -> Run | None:
        runs = self.call(
            self.client.search_runs,
            [context.experiment_id],
            f"tags.`{TAG_KEY}` = '{context.key}' and tags.`{TAG_TRIAL}` = '{number}'",
            order_by=["attributes.start_time ASC"],
            max_results=10,
        )
        return min(runs, key=lambda r: (r.info.start_time, r.info.run_id)) if runs else None

    def create_child(self, context: StudyContext, number: int, start: Any) -> str:
        tags = {
            TAG_PARENT: context.parent_run_id,
            TAG_ROLE: "trial",
            TAG_KEY: context.key,
            TAG_STUDY: context.study_name,
            TAG_TRIAL: str(number),
            TAG_STATE: "RUNNING",
        }
        run = self.call(
            self.client.create_run,
            context.experiment_id,
            start_time=ms(start),
            tags=tags,
            run_name=f"trial-{number}",
            recover=lambda: self._find_child(context, number),
        )
        return run.info.run_id
