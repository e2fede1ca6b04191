"""MLflow tracking helpers: tracking stores, scripted trials (no Keras), reading and checking run trees.

The fixtures built on these (``mlflow_db_template``, ``sqlite_uri``, ``tracking_uri``,
``mlflow_server``) are in ``tests/conftest.py``.
"""

from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pytest

from stacksearch.space import ArchSpec

__all__ = ["RunTree", "Script", "check_tree", "copy_db", "migrated_db", "new_study", "run_tree", "scripted_objective"]

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def migrated_db(path: Path) -> Path:
    """Create an empty, migrated MLflow SQLite database at ``path`` (seconds; copy it with :func:`copy_db`)."""
    import mlflow

    from stacksearch.tracking.runs import enable_sqlite_wal

    enable_sqlite_wal(f"sqlite:///{path}")
    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


def copy_db(template: Path, target: Path) -> str:
    """Copy an SQLite database (consistently, WAL included); return its ``sqlite:///`` URI."""
    with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


@dataclass
class Script:
    """What a scripted trial does: its epochs' validation losses and how it ends."""

    losses: tuple[float, ...] = (0.5, 0.3, 0.2)
    end: str = "complete"  # complete | prune | fail | reject


def scripted_objective(listeners: list[Any], scripts: dict[int, Script] | None = None):
    """An objective that acts like StackedLSTMObjective (same attrs, hooks) without Keras."""
    scripts = scripts or {}

    def objective(trial: optuna.Trial) -> float:
        script = scripts.get(trial.number, Script())
        depth = trial.suggest_int("depth", 1, 3)
        units = trial.suggest_int("units", 4, 16)
        lr = trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True)
        for key, value in (("width_mode", "shared"), ("backend", "tensorflow"), ("seed", trial.number)):
            trial.set_user_attr(key, value)
        if script.end == "reject":
            trial.set_user_attr("reject_reason", "over the parameter budget")
            raise optuna.TrialPruned("rejected: over the parameter budget")
        widths = [units] * depth
        trial.set_user_attr("depth", depth)
        trial.set_user_attr("widths", widths)
        trial.set_user_attr("n_params", 100 * depth * units)
        spec = ArchSpec(widths=tuple(widths), learning_rate=lr)
        for listener in listeners:
            listener.on_trial_start(trial, spec)
        history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_mse": []}
        for epoch, loss in enumerate(script.losses):
            logs = {"loss": loss + 0.1, "val_loss": loss, "val_mse": loss}
            for key, value in logs.items():
                history[key].append(value)
            for listener in listeners:
                listener.on_epoch_end(trial, epoch, logs)
        best_epoch = min(range(len(script.losses)), key=lambda i: script.losses[i])
        for key, value in (
            ("epochs_trained", len(script.losses)),
            ("best_epoch", best_epoch),
            ("train_seconds", 0.01),
            ("history", history),
        ):
            trial.set_user_attr(key, value)
        if script.end in ("prune", "fail"):
            trial.set_user_attr(f"{script.end}_reason", f"scripted {script.end} at epoch {len(script.losses) - 1}")
            for listener in listeners:
                listener.on_trial_end(trial, None, None)
            if script.end == "prune":
                raise optuna.TrialPruned("scripted")
            return math.nan
        trial.set_user_attr("test_mse", script.losses[best_epoch] * 1.1)
        for listener in listeners:
            listener.on_trial_end(trial, None, script.losses[best_epoch])
        return script.losses[best_epoch]

    return objective


def new_study(folder: Path, name: str = "study") -> optuna.Study:
    """An Optuna study in SQLite with the study attributes the runner stores."""
    study = optuna.create_study(
        storage=f"sqlite:///{folder / 'optuna.db'}", study_name=name, direction="minimize", load_if_exists=True
    )
    study.set_user_attr("benchmark", {"name": "adding", "args": {"length": 10}})
    study.set_user_attr("metric", "mse")
    study.set_user_attr("direction", "minimize")
    study.set_user_attr("baseline", 0.1667)
    return study


@dataclass
class RunTree:
    """The runs of one study's experiment: its parents and its trial runs by number."""

    parents: list[Any]
    trials: dict[int, list[Any]]

    @property
    def parent(self) -> Any:
        assert len(self.parents) == 1, [r.info.run_id for r in self.parents]
        return self.parents[0]

    def child(self, number: int) -> Any:
        runs = self.trials.get(number, [])
        assert len(runs) == 1, (number, [r.info.run_id for r in runs])
        return runs[0]


def run_tree(client: Any, study: optuna.Study) -> RunTree:
    """Read every active run of the study's experiment."""
    experiment_id = study.user_attrs["mlflow_experiment_id"]
    runs = client.search_runs([experiment_id], max_results=5000)
    parents = [r for r in runs if r.data.tags.get("stacksearch.role") == "parent"]
    trials: dict[int, list[Any]] = {}
    for run in runs:
        if run.data.tags.get("stacksearch.role") == "trial":
            trials.setdefault(int(run.data.tags["optuna.trial_number"]), []).append(run)
    assert len(parents) + sum(map(len, trials.values())) == len(runs)
    return RunTree(parents, trials)


def check_tree(client: Any, study: optuna.Study) -> RunTree:
    """Assert the exact run tree of a study: one parent, one nested run per trial, all filled in."""
    tree = run_tree(client, study)
    parent = tree.parent
    assert study.user_attrs["mlflow_parent_run_id"] == parent.info.run_id
    assert parent.data.tags["optuna.study_name"] == study.study_name
    trials = study.get_trials(deepcopy=False)
    assert sorted(tree.trials) == [t.number for t in trials]
    status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
    for trial in trials:
        run = tree.child(trial.number)
        tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
        assert run.info.run_name == f"trial-{trial.number}"
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["optuna.trial_number"] == str(trial.number)
        assert tags["optuna.study_name"] == study.study_name
        assert tags["optuna.trial_state"] == trial.state.name
        assert run.info.status == status[trial.state.name]
        for key, value in trial.params.items():
            assert params[key] == str(value)
        for key in ("width_mode", "backend", "seed"):
            assert params[key] == str(trial.user_attrs[key])
        widths = trial.user_attrs.get("widths")
        if widths:
            assert params["depth"] == str(len(widths))
            assert [params[f"units_{i}"] for i in range(len(widths))] == [str(w) for w in widths]
            assert f"units_{len(widths)}" not in params
            epochs = trial.user_attrs["epochs_trained"]
            assert metrics["epochs_trained"] == epochs
            for key, values in trial.user_attrs["history"].items():
                history = client.get_metric_history(run.info.run_id, key)
                assert sorted(m.step for m in history) == list(range(epochs)), key
                assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(values)
        if trial.state.name == "COMPLETE":
            assert metrics["objective"] == pytest.approx(trial.value)
            assert metrics["n_params"] == trial.user_attrs["n_params"]
        else:
            reason = next(
                trial.user_attrs[k] for k in ("reject_reason", "prune_reason", "fail_reason") if k in trial.user_attrs
            )
            assert tags["optuna.trial_reason"] == reason
    return tree
