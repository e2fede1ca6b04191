"""MLflow tracking against a real ``mlflow server`` on 127.0.0.1 (and SQLite): run trees,
two workers at once, a server stopped mid-study, and real (tiny) training with model logging."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch.tracking import MLflowTracker, RetryPolicy, sync_mlflow
from tests.support.servers import MlflowServer, free_port
from tests.support.tracking import Script, check_tree, copy_db, new_study, run_tree, scripted_objective

pytestmark = pytest.mark.integration
optuna.logging.set_verbosity(optuna.logging.WARNING)
ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
from stacksearch.tracking import MLflowTracker
from tests.support.tracking import scripted_objective
uri, storage, name, folder, me = sys.argv[1:6]
study = optuna.load_study(study_name=name, storage=storage)
tracker = MLflowTracker(uri, flush_every=0.0)
tracker.client.search_experiments(max_results=1)  # imports and connections done before the start line
Path(folder, me + ".ready").touch()
while not Path(folder, "go").exists():
    time.sleep(0.001)
tracker.setup(study, space={{"depth": [1, 3]}}, benchmark=None, config={{"worker": me}})
study.optimize(scripted_objective([tracker]), n_trials=2, callbacks=[tracker])
print(tracker._contexts[name].parent_run_id)
"""


def test_scripted_study_makes_the_exact_run_tree(tmp_path: Path, tracking_uri: str) -> None:
    study = new_study(tmp_path, f"tree-{tmp_path.name}")
    tracker = MLflowTracker(tracking_uri, flush_every=0.0)
    tracker.setup(study, space={"depth": [1, 3], "units": [4, 16]}, benchmark=study.user_attrs["benchmark"])
    scripts = {1: Script(end="prune"), 2: Script(end="fail"), 3: Script(end="reject")}
    study.optimize(scripted_objective([tracker], scripts), n_trials=5, callbacks=[tracker])
    tracker.close(study)
    tree = check_tree(tracker.client, study)
    assert tree.parent.info.status == "FINISHED"
    assert [tree.child(n).info.status for n in range(5)] == ["FINISHED", "KILLED", "FAILED", "KILLED", "FINISHED"]


@pytest.mark.parametrize("backend", ["server", "sqlite"])
def test_two_workers_starting_at_once_make_one_parent(tmp_path: Path, backend: str, request) -> None:
    uri = request.getfixturevalue("mlflow_server").uri if backend == "server" else f"sqlite:///{tmp_path / 'mlflow.db'}"
    if backend == "sqlite":
        copy_db(request.getfixturevalue("mlflow_db_template"), tmp_path / "mlflow.db")
    name = f"race-{backend}-{tmp_path.name}"
    study = new_study(tmp_path, name)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER.format(root=str(ROOT)), uri, storage, name, str(tmp_path), f"w{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 240
    while not all((tmp_path / f"w{i}.ready").exists() for i in range(2)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), [
            w.communicate() for w in workers if w.poll() is not None
        ]
        time.sleep(0.05)
    (tmp_path / "go").touch()
    outputs = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    parents = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert len(parents) == 1
    study = optuna.load_study(study_name=name, storage=storage)
    assert len(study.trials) == 4
    tree = check_tree(MLflowTracker(uri).client, study)
    assert tree.parent.info.run_id == parents.pop()


def test_server_stopped_mid_study_then_sync_backfills(tmp_path: Path) -> None:
    server = MlflowServer(tmp_path / "server-data")
    (tmp_path / "server-data").mkdir()
    server.start()
    try:
        study = new_study(tmp_path, "outage")
        policy = RetryPolicy(attempts=2, backoff=0.05, cooldown=1.0, max_cooldown=2.0)
        tracker = MLflowTracker(server.uri, retry=policy, flush_every=0.0)
        tracker.setup(study, space={"depth": [1, 3]}, benchmark=None)
        objective = scripted_objective([tracker])
        study.optimize(objective, n_trials=2, callbacks=[tracker])
        server.stop()
        started = time.monotonic()
        study.optimize(objective, n_trials=3, callbacks=[tracker])
        assert time.monotonic() - started < 60
        assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
        server.start()
        result = sync_mlflow(study, MLflowTracker(server.uri))
        assert sorted(result.created + result.updated) == [2, 3, 4]
        assert result.unchanged == [0, 1]
        check_tree(tracker.client, study)
        assert sync_mlflow(study, MLflowTracker(server.uri)).unchanged == [0, 1, 2, 3, 4]
    finally:
        server.stop()


def test_real_training_logs_a_loadable_best_model(tmp_path: Path, tracking_uri: str) -> None:
    import mlflow
    import numpy as np

    from stacksearch import benchmarks
    from stacksearch.objective import StackedLSTMObjective
    from stacksearch.space import SearchSpace
    from stacksearch.tracking.runs import use_tracking_uri

    data = benchmarks.load("adding", length=10, n_train=128, n_val=64, n_test=64)
    study = new_study(tmp_path, f"real-{tmp_path.name}")
    tracker = MLflowTracker(tracking_uri, log_models="best")
    tracker.setup(study, space={"depth": [1, 2], "units": [4, 8]}, benchmark=data.info())
    objective = StackedLSTMObjective(
        data, SearchSpace(depth=(1, 2), units=(4, 8)), epochs=2, batch_size=64, listeners=[tracker]
    )
    study.optimize(objective, n_trials=2, callbacks=[tracker])
    tree = check_tree(tracker.client, study)
    best = tree.child(study.best_trial.number)
    model_uri = tree.parent.data.tags["stacksearch.best_model_uri"]
    assert model_uri == best.data.tags["stacksearch.model_uri"] == f"runs:/{best.info.run_id}/model"
    with use_tracking_uri(tracking_uri):
        info = mlflow.models.get_model_info(model_uri)
        model = mlflow.keras.load_model(model_uri)
    spec = info.signature.inputs.to_dict()[0]["tensor-spec"]
    assert spec["dtype"] == "float32" and list(spec["shape"])[0] == -1 and list(spec["shape"])[-1] == data.n_features
    predictions = model.predict(data.x_test[:4], verbose=0)
    assert predictions.shape == (4, 1) and np.isfinite(predictions).all()
    history = tracker.client.get_metric_history(best.info.run_id, "val_loss")
    assert len(history) == study.best_trial.user_attrs["epochs_trained"]


def test_cli_ui_serves_the_tracking_store_and_stops_on_ctrl_c(tmp_path: Path, mlflow_db_template: Path) -> None:
    import signal
    import urllib.request

    uri = copy_db(mlflow_db_template, tmp_path / "mlflow.db")
    port = free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "stacksearch.cli", "ui", "--port", str(port), "--tracking-uri", uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        line = ""
        deadline = time.monotonic() + 180
        while "MLflow UI:" not in line:
            assert time.monotonic() < deadline and ui.poll() is None, line
            line = ui.stdout.readline()
        assert f"MLflow UI: http://127.0.0.1:{port}" in line and uri in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert response.status == 200
    finally:
        ui.send_signal(signal.SIGINT)
        assert ui.wait(60) == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)


def test_log_models_all_and_none(tmp_path: Path, mlflow_db_template: Path) -> None:
    import keras

    from stacksearch.space import ArchSpec

    uri = copy_db(mlflow_db_template, tmp_path / "mlflow.db")
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    for mode, expected in (("all", [True, True]), ("none", [False, False])):
        study = new_study(tmp_path, f"models-{mode}")
        tracker = MLflowTracker(uri, log_models=mode)
        for value in (0.5, 0.9):  # the second is worse: logged only with "all"
            trial = study.ask()
            tracker.on_trial_start(trial, ArchSpec(widths=(4,)))
            tracker.on_trial_end(trial, model, value)
            study.tell(trial, value)
            tracker(study, study.trials[-1])
        tree = run_tree(tracker.client, study)
        assert ["stacksearch.model_uri" in tree.child(n).data.tags for n in (0, 1)] == expected
