"""MLflow tracking against a real SQLite tracking store, with scripted trials (no Keras)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from stacksearch.exceptions import TrackingError
from stacksearch.tracking import MLflowTracker, RetryPolicy, mask_url, redact, sync_mlflow
from stacksearch.tracking.runs import LOCK_PREFIX, final_metrics, study_key, trial_params, trial_reason
from tests.support.tracking import Script, check_tree, new_study, run_tree, scripted_objective

optuna.logging.set_verbosity(optuna.logging.WARNING)
FAST = RetryPolicy(attempts=2, backoff=0.01, cooldown=0.2, max_cooldown=0.4, lock_timeout=2.0)
SECRET = "s3cr3t-pw"


def test_redact_and_mask_url() -> None:
    assert mask_url("postgresql+psycopg://me:secret@db:5432/optuna") == "postgresql+psycopg://me:***@db:5432/optuna"
    assert mask_url("http://me:secret@mlflow:5000") == "http://me:***@mlflow:5000"
    assert mask_url("sqlite:///mlflow.db") == "sqlite:///mlflow.db"
    text = "failed: mysql+pymysql://root:p@ss@h/db and https://h/api?token=abc&x=1"
    assert redact(text) == "failed: mysql+pymysql://root:***@h/db and https://h/api?token=***&x=1"


def test_trial_params_final_metrics_and_reasons() -> None:
    done = create_trial(
        params={"depth": 2, "units_0": 8, "units_1": 4, "learning_rate": 0.01},
        distributions={
            "depth": optuna.distributions.IntDistribution(1, 3),
            "units_0": optuna.distributions.IntDistribution(4, 8),
            "units_1": optuna.distributions.IntDistribution(4, 8),
            "learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-1),
        },
        value=0.25,
        user_attrs={
            "widths": [8, 4],
            "width_mode": "per_layer",
            "seed": 7,
            "n_params": 500,
            "epochs_trained": 3,
            "best_epoch": 1,
            "train_seconds": 1.5,
            "test_mse": 0.3,
        },
    )
    assert trial_params(done.params, done.user_attrs) == {
        "depth": "2",
        "units_0": "8",
        "units_1": "4",
        "learning_rate": "0.01",
        "width_mode": "per_layer",
        "seed": "7",
    }
    assert final_metrics(done) == {
        "n_params": 500.0,
        "epochs_trained": 3.0,
        "best_epoch": 1.0,
        "train_seconds": 1.5,
        "test_mse": 0.3,
        "objective": 0.25,
    }
    assert trial_reason(done) is None
    pruned = create_trial(state=TrialState.PRUNED, user_attrs={"reject_reason": "over budget"})
    assert trial_reason(pruned) == "over budget"
    failed = create_trial(state=TrialState.FAIL, system_attrs={"fail_reason": "ValueError: boom"})
    assert trial_reason(failed) == "ValueError: boom"


def test_bad_configuration_is_a_tracking_error(tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match="file store"):
        MLflowTracker("./mlruns")
    with pytest.raises(TrackingError, match="does not exist"):
        MLflowTracker(f"sqlite:///{tmp_path}/missing/mlflow.db")
    with pytest.raises(TrackingError, match="log_models"):
        MLflowTracker(f"sqlite:///{tmp_path}/mlflow.db", log_models="some")


def test_hooks_make_the_exact_run_tree(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, flush_every=0.0)
    tracker.setup(
        study,
        space={"depth": [1, 3], "units": [4, 16]},
        benchmark=study.user_attrs["benchmark"],
        config={"study": {"storage": f"postgresql://me:{SECRET}@db/optuna"}},
    )
    scripts = {1: Script(end="prune"), 2: Script(end="fail"), 3: Script(end="reject"), 4: Script((0.4, 0.1, 0.2, 0.3))}
    study.optimize(scripted_objective([tracker], scripts), n_trials=6, callbacks=[tracker])
    tracker.close(study)
    tree = check_tree(tracker.client, study)
    assert [t.state for t in study.trials][:4] == [
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
        TrialState.PRUNED,
    ]
    parent = tree.parent
    assert parent.info.status == "FINISHED"
    assert parent.data.params["space.depth"] == "[1, 3]"
    assert parent.data.params["benchmark.name"] == "adding"
    assert parent.data.metrics["baseline"] == pytest.approx(0.1667)
    assert parent.data.tags["stacksearch.best_trial"] == str(study.best_trial.number)
    assert parent.data.tags["stacksearch.best_run_id"] == study.best_trial.user_attrs["mlflow_run_id"]
    assert SECRET not in str(parent.data.tags) and "me:***@db" in parent.data.tags["stacksearch.config"]
    best_history = tracker.client.get_metric_history(parent.info.run_id, "best_value")
    assert [m.value for m in sorted(best_history, key=lambda m: m.step)] == sorted(
        [m.value for m in best_history], reverse=True
    )
    assert study.trials[0].user_attrs["mlflow_run_id"] == tree.child(0).info.run_id
    assert sync_mlflow(study, tracker).unchanged == [0, 1, 2, 3, 4, 5]


def test_callback_alone_logs_everything_from_storage(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, experiment="mine")
    study.optimize(scripted_objective([], {1: Script(end="prune")}), n_trials=3, callbacks=[tracker])
    check_tree(tracker.client, study)
    assert tracker.client.get_experiment(study.user_attrs["mlflow_experiment_id"]).name == "mine"


def test_epochs_are_sent_in_batches(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, flush_every=3600)
    tracker.setup(study, space={}, benchmark=None)
    calls: list[str] = []
    client = tracker.client

    class Recording:
        def __getattr__(self, name: str):
            method = getattr(client, name)

            def call(*args, **kwargs):
                calls.append(name)
                return method(*args, **kwargs)

            return call

    tracker._client = Recording()
    study.optimize(scripted_objective([tracker], {0: Script(losses=(0.5,) * 20)}), n_trials=1, callbacks=[tracker])
    tracker._client = client
    check_tree(client, study)
    assert calls == ["create_run", "log_batch", "set_terminated", "log_batch"]  # the last: the parent's best


class Flaky:
    """A real client whose calls fail while ``down`` is set, like an unreachable server."""

    def __init__(self, client) -> None:
        self.client, self.down, self.failures = client, False, 0

    def __getattr__(self, name: str):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            if self.down:
                self.failures += 1
                raise ConnectionError(f"connection refused: http://me:{SECRET}@127.0.0.1:9/api")
            return method(*args, **kwargs)

        return call


def test_outage_never_fails_a_trial_warns_once_and_backfills(tmp_path: Path, sqlite_uri: str, caplog) -> None:
    import time

    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, retry=FAST, flush_every=0.0)
    flaky = Flaky(tracker.client)
    tracker._client = flaky
    tracker.setup(study, space={}, benchmark=None)
    objective = scripted_objective([tracker])
    study.optimize(objective, n_trials=1, callbacks=[tracker])
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="stacksearch.tracking"):
        started = time.monotonic()
        study.optimize(objective, n_trials=4, callbacks=[tracker])
        assert time.monotonic() - started < 10
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("stacksearch")]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert SECRET not in caplog.text and "me:***@127.0.0.1" in caplog.text
    flaky.down = False
    time.sleep(0.5)
    study.optimize(objective, n_trials=1, callbacks=[tracker])  # MLflow answers: the missed trials follow
    check_tree(flaky.client, study)
    assert tracker._pending[study.study_name] == set()


def test_sync_backfills_missing_and_stale_runs_without_duplicates(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, retry=FAST, flush_every=0.0)
    tracker.setup(study, space={}, benchmark=None)
    study.optimize(scripted_objective([tracker]), n_trials=2, callbacks=[tracker])
    study.optimize(scripted_objective([]), n_trials=2)  # not tracked at all: missing runs
    stale = study.ask()  # a worker killed after its run was made: RUNNING run, then FAIL in storage
    tracker.on_trial_start(stale, ArchSpec_for(stale))
    study.tell(stale, state=TrialState.FAIL)
    killed = study.ask()  # a worker killed mid-trial, trial still RUNNING in storage
    tracker.on_trial_start(killed, ArchSpec_for(killed))
    client = tracker.client
    assert client.get_run(killed.user_attrs["mlflow_run_id"]).info.status == "RUNNING"

    fresh = MLflowTracker(sqlite_uri)
    result = sync_mlflow(study, fresh)
    assert (result.created, result.updated, result.killed) == ([2, 3], [4], [])
    assert client.get_run(stale.user_attrs["mlflow_run_id"]).info.status == "FAILED"
    result = sync_mlflow(study, fresh, kill_running=True)
    assert (result.created, result.updated, result.killed) == ([], [], [5])
    assert client.get_run(killed.user_attrs["mlflow_run_id"]).info.status == "KILLED"
    tree = run_tree(client, study)
    assert sorted(tree.trials) == [0, 1, 2, 3, 4, 5] and all(len(r) == 1 for r in tree.trials.values())
    for number in (0, 1, 2, 3):
        run = tree.child(number)
        assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 3
    assert sync_mlflow(study, fresh).unchanged == [0, 1, 2, 3, 4, 5]
    assert len(run_tree(client, study).parents) == 1


def ArchSpec_for(trial: optuna.Trial):  # noqa: N802 - reads like the class it builds
    from stacksearch.space import ArchSpec

    units = trial.suggest_int("units", 4, 8)
    return ArchSpec(widths=(units,))


def test_concurrent_setups_in_threads_make_one_parent(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    MLflowTracker(sqlite_uri).client.search_experiments()  # create the tables before the race
    trackers = [MLflowTracker(sqlite_uri, retry=RetryPolicy(attempts=6, backoff=0.1)) for _ in range(4)]
    barrier = threading.Barrier(len(trackers))

    def setup(tracker: MLflowTracker) -> None:
        barrier.wait()
        tracker.setup(
            optuna.load_study(study_name=study.study_name, storage=f"sqlite:///{tmp_path / 'optuna.db'}"),
            space={"depth": [1, 2]},
            benchmark=None,
        )

    threads = [threading.Thread(target=setup, args=(t,)) for t in trackers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parents = {t._contexts[study.study_name].parent_run_id for t in trackers}
    assert len(parents) == 1
    assert len(run_tree(trackers[0].client, new_study(tmp_path)).parents) == 1


def test_a_stale_parent_lock_is_taken_over(tmp_path: Path, sqlite_uri: str, caplog) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri, retry=RetryPolicy(lock_timeout=0.5))
    experiment_id = tracker.client.create_experiment(study.study_name)
    tracker.client.create_experiment(f"{LOCK_PREFIX}/{experiment_id}/{study_key(study.study_name)}/0")
    with caplog.at_level(logging.WARNING, logger="stacksearch.tracking"):
        tracker.setup(study, space={}, benchmark=None)
    assert "taking over" in caplog.text
    assert len(run_tree(tracker.client, study).parents) == 1
    again = MLflowTracker(sqlite_uri)
    again.setup(study, space={}, benchmark=None)
    assert again._contexts[study.study_name].parent_run_id == study.user_attrs["mlflow_parent_run_id"]


def test_a_deleted_parent_is_replaced_once(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    tracker = MLflowTracker(sqlite_uri)
    tracker.setup(study, space={}, benchmark=None)
    tracker.client.delete_run(study.user_attrs["mlflow_parent_run_id"])
    study.set_user_attr("mlflow_parent_run_id", None)
    second, third = MLflowTracker(sqlite_uri), MLflowTracker(sqlite_uri)
    second.setup(study, space={}, benchmark=None)
    third.setup(study, space={}, benchmark=None)
    assert second._contexts[study.study_name] == third._contexts[study.study_name]
    assert len(run_tree(tracker.client, study).parents) == 1


def test_no_password_in_repr_or_warnings(tmp_path: Path) -> None:
    tracker = MLflowTracker(f"http://me:{SECRET}@127.0.0.1:9", retry=FAST)
    assert SECRET not in repr(tracker)


def test_cli_sync_mlflow_backfills_and_names_a_missing_study(tmp_path: Path, sqlite_uri: str, capsys) -> None:
    from stacksearch.cli import main

    study = new_study(tmp_path, "cli-sync")
    study.optimize(scripted_objective([], {1: Script(end="prune")}), n_trials=3)  # tracking was off
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    args = ["sync-mlflow", "cli-sync", "--storage", storage, "--tracking-uri", sqlite_uri]
    assert main(args) == 0
    assert "created 3" in capsys.readouterr().out
    study = optuna.load_study(study_name="cli-sync", storage=storage)
    check_tree(MLflowTracker(sqlite_uri).client, study)
    assert main(args) == 0
    assert "created 0, updated 0, killed 0, removed 0, unchanged 3" in capsys.readouterr().out
    assert main(["sync-mlflow", "nope", "--storage", storage, "--tracking-uri", sqlite_uri]) == 2
    err = capsys.readouterr().err
    assert "no study 'nope'" in err and "cli-sync" in err


def test_a_later_tracker_finds_a_custom_experiment_from_the_study(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    MLflowTracker(sqlite_uri, experiment="custom").setup(study, space={}, benchmark=None)
    later = MLflowTracker(sqlite_uri)  # as `stacksearch sync-mlflow` or the report upload make it
    later.setup(study, space={}, benchmark=None)
    assert later._contexts[study.study_name].experiment_id == study.user_attrs["mlflow_experiment_id"]
    assert len(later.client.search_experiments()) == 2  # Default and custom: no new one


def test_stale_trial_hook_ends_a_dead_workers_run_failed(tmp_path: Path, sqlite_uri: str) -> None:
    study = new_study(tmp_path)
    dead_worker = MLflowTracker(sqlite_uri)
    dead_worker.setup(study, space={}, benchmark=None)
    trial = study.ask()
    dead_worker.on_trial_start(trial, ArchSpec_for(trial))
    dead_worker.on_epoch_end(trial, 0, {"loss": 1.0, "val_loss": 1.0})
    study.tell(trial, state=TrialState.FAIL)  # what fail_stale_trials does on another worker
    other_worker = MLflowTracker(sqlite_uri)
    other_worker(study, study.trials[0])  # the runner registers the tracker as a stale-trial hook
    run = other_worker.client.get_run(trial.user_attrs["mlflow_run_id"])
    assert run.info.status == "FAILED" and run.data.tags["optuna.trial_state"] == "FAIL"
    assert run.data.params["units"] == str(trial.params["units"])
    assert len(run_tree(other_worker.client, study).trials[0]) == 1


def test_sync_fails_a_dead_workers_trial_saying_why(tmp_path: Path, sqlite_uri: str) -> None:
    import time

    from stacksearch.storage import open_storage

    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage, study_name="stale", direction="minimize")
    trial = study.ask()
    storage.record_heartbeat(trial._trial_id)  # then the worker dies: no more heartbeats
    time.sleep(3.5)  # beyond the grace period, at the database clock's one-second resolution
    sync_mlflow(study, MLflowTracker(sqlite_uri))
    dead = study.trials[0]
    assert dead.state == TrialState.FAIL and "no heartbeat" in dead.user_attrs["fail_reason"]


def test_the_report_upload_carries_verdict_json_and_tags_the_call(workdir: Path, sqlite_uri: str) -> None:
    from stacksearch.cli import _write_report

    study = new_study(workdir)
    for value in (0.2, 0.1):  # one depth: single_depth
        study.add_trial(create_trial(value=value, user_attrs={"depth": 2, "widths": [8, 8], "n_params": 500}))
    _write_report(study, str(workdir / "report"), sqlite_uri)
    client = MLflowTracker(sqlite_uri).client
    parent = study.user_attrs["mlflow_parent_run_id"]
    assert client.get_run(parent).data.tags["stacksearch.verdict"] == "single_depth"
    uploaded = {f.path for f in client.list_artifacts(parent, "report")}
    assert {"report/verdict.json", "report/report.html"} <= uploaded
    local = client.download_artifacts(parent, "report/verdict.json", str(workdir))
    assert json.loads(Path(local).read_text(encoding="utf-8"))["call"] == "single_depth"
