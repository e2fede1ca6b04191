"""Time MLflow tracking adds per trial, against the same study with tracking off.

Two objectives, each run with tracking off and on (SQLite tracking store, SQLite Optuna
storage, both in a fresh temporary folder; runs alternate off/on, median of ``--repeats``):

- ``scripted``: the objective's bookkeeping and listener calls with scripted epochs and no
  training, so the difference is tracking alone (the goal: <= 150 ms per trial);
- ``real``: StackedLSTMObjective training tiny models (adding, length 10, 128 sequences),
  with ``log_models: best`` (the default): includes logging the best models.

Usage:
    python benchmarks/tracking_overhead.py                    # both, 30 scripted + 8 real trials
    python benchmarks/tracking_overhead.py --mode scripted --trials 50 --epochs 20

Prints a Markdown table (docs/performance.md quotes it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import optuna  # noqa: E402

from stacksearch.space import ArchSpec, SearchSpace  # noqa: E402
from stacksearch.storage import open_storage  # noqa: E402
from stacksearch.tracking import MLflowTracker  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def scripted(listeners: list[Any], epochs: int) -> Callable[[optuna.Trial], float]:
    """What StackedLSTMObjective does around training (attrs, hooks), with scripted epochs."""
    space = SearchSpace(depth=(1, 4), units=(8, 128))

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("width_mode", space.width_mode)
        trial.set_user_attr("backend", "tensorflow")
        spec: ArchSpec = space.sample(trial, 2, 1)
        for key, value in (
            ("depth", spec.depth),
            ("widths", list(spec.widths)),
            ("n_params", spec.n_params(2, 1)),
            ("seed", trial.number),
        ):
            trial.set_user_attr(key, value)
        for listener in listeners:
            listener.on_trial_start(trial, spec)
        history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_mse": []}
        for epoch in range(epochs):
            loss = spec.learning_rate * 10 + 1.0 / (epoch + 1)
            logs = {"loss": loss * 1.1, "val_loss": loss, "val_mse": loss}
            for key, value in logs.items():
                history[key].append(value)
            for listener in listeners:
                listener.on_epoch_end(trial, epoch, logs)
            trial.report(loss, epoch)
        for key, value in (
            ("epochs_trained", epochs),
            ("best_epoch", epochs - 1),
            ("train_seconds", 0.0),
            ("history", history),
            ("test_mse", loss),
        ):
            trial.set_user_attr(key, value)
        for listener in listeners:
            listener.on_trial_end(trial, None, loss)
        return loss

    return objective


def real(listeners: list[Any], epochs: int) -> Callable[[optuna.Trial], float]:
    from stacksearch import benchmarks
    from stacksearch.objective import StackedLSTMObjective

    data = benchmarks.load("adding", length=10, n_train=128, n_val=64, n_test=64)
    return StackedLSTMObjective(
        data, SearchSpace(depth=(1, 2), units=(4, 16)), epochs=epochs, batch_size=64, listeners=listeners
    )


def one_run(kind: str, tracking: bool, trials: int, epochs: int, folder: Path, tag: str) -> dict[str, float]:
    storage = open_storage(f"sqlite:///{folder / f'optuna-{tag}.db'}")
    study = optuna.create_study(
        storage=storage, study_name=tag, direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.set_user_attr("benchmark", {"name": "adding", "args": {"length": 10}})
    study.set_user_attr("baseline", 0.1667)
    tracker, setup_s, models, inside = None, 0.0, 0, [0.0]
    if tracking:
        started = time.perf_counter()
        tracker = MLflowTracker(f"sqlite:///{folder / 'mlflow.db'}", log_models="best")
        tracker.setup(study, space={"depth": [1, 4], "units": [8, 128]}, benchmark=study.user_attrs["benchmark"])
        setup_s = time.perf_counter() - started
        tracker = _Timed(tracker, inside)
    objective = (scripted if kind == "scripted" else real)([tracker] if tracker else [], epochs)
    objective(optuna.trial.FixedTrial({"depth": 1, "units": 8, "learning_rate": 1e-3}))  # warm caches/imports
    started = time.perf_counter()
    study.optimize(objective, n_trials=trials, callbacks=[tracker] if tracker else [])
    elapsed = time.perf_counter() - started
    if tracker is not None:
        tracker = tracker.tracker
        tracker.close(study)
        runs = tracker.client.search_runs([study.user_attrs["mlflow_experiment_id"]], max_results=5000)
        models = sum("stacksearch.model_uri" in r.data.tags for r in runs)
        assert len(runs) == trials + 1, f"expected {trials + 1} runs, found {len(runs)}"
    return {
        "per_trial_ms": 1000 * elapsed / trials,
        "setup_s": setup_s,
        "models": models,
        "inside_ms": 1000 * inside[0] / trials,
    }


class _Timed:
    """Forwards the listener and callback calls to the tracker, adding up the time they take."""

    def __init__(self, tracker: MLflowTracker, total: list[float]) -> None:
        self.tracker, self.total = tracker, total

    def _timed(self, method: Callable, *args: Any) -> None:
        started = time.perf_counter()
        method(*args)
        self.total[0] += time.perf_counter() - started

    def on_trial_start(self, *args: Any) -> None:
        self._timed(self.tracker.on_trial_start, *args)

    def on_epoch_end(self, *args: Any) -> None:
        self._timed(self.tracker.on_epoch_end, *args)

    def on_trial_end(self, *args: Any) -> None:
        self._timed(self.tracker.on_trial_end, *args)

    def __call__(self, *args: Any) -> None:
        self._timed(self.tracker, *args)


def measure(kind: str, trials: int, epochs: int, repeats: int) -> dict[str, float]:
    off, on, setups, models, inside = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="tracking-overhead-") as tmp:
        folder = Path(tmp)
        MLflowTracker(f"sqlite:///{folder / 'mlflow.db'}").client.search_experiments()  # tables, once
        for repeat in range(repeats):
            off.append(one_run(kind, False, trials, epochs, folder, f"{kind}-off-{repeat}")["per_trial_ms"])
            result = one_run(kind, True, trials, epochs, folder, f"{kind}-on-{repeat}")
            on.append(result["per_trial_ms"])
            setups.append(result["setup_s"])
            models.append(result["models"])
            inside.append(result["inside_ms"])
    return {
        "off": statistics.median(off),
        "on": statistics.median(on),
        "setup": statistics.median(setups),
        "models": statistics.median(models),
        "inside": statistics.median(inside),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("scripted", "real", "both"), default="both")
    parser.add_argument("--trials", type=int, help="trials per run (default 30 scripted, 8 real)")
    parser.add_argument("--epochs", type=int, help="epochs per trial (default 10 scripted, 2 real)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    kinds = ["scripted", "real"] if args.mode == "both" else [args.mode]
    print(
        "| objective | trials x epochs | tracking off (ms/trial) | tracking on (ms/trial) "
        "| added (ms/trial) | inside tracker calls (ms/trial) | one-time setup (s) | models logged |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        trials = args.trials or (30 if kind == "scripted" else 8)
        epochs = args.epochs or (10 if kind == "scripted" else 2)
        r = measure(kind, trials, epochs, args.repeats)
        print(
            f"| {kind} | {trials} x {epochs} | {r['off']:.0f} | {r['on']:.0f} | {r['on'] - r['off']:.0f} "
            f"| {r['inside']:.0f} | {r['setup']:.2f} | {r['models']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
