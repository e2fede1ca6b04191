"""Per-trial overhead: where a trial's wall time goes outside steady ``fit`` epochs.

    nice -n 10 python benchmarks/per_trial.py                         # tensorflow and jax
    nice -n 10 python benchmarks/per_trial.py --backends jax --trials 8

Runs a small study through the real ``StackedLSTMObjective`` on SQLite storage (MLflow
tracking off: benchmarks/tracking_overhead.py measures that) and splits each trial into:
clear_session + gc, build + compile, the first epoch's excess over a steady epoch (tracing /
XLA compilation), steady epochs, scoring the test split, storage writes (timed around the
RDB storage's write methods), and the rest (sampling, Optuna bookkeeping). One subprocess
per backend and ``gc.freeze`` setting: "on" freezes the objects alive before the first trial
as ``run_study`` does, "off" is the same study without it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict


def worker(backend: str, trials: int, epochs: int, freeze: bool) -> None:
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import gc

    import keras
    import optuna

    import stacksearch.model as model_mod
    import stacksearch.train as train_mod
    from stacksearch import benchmarks
    from stacksearch.objective import StackedLSTMObjective
    from stacksearch.space import SearchSpace

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    spent: dict[str, float] = defaultdict(float)

    in_fit = [False]

    active: list[str] = []

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            if active:  # nested (e.g. the gc.collect inside clear_session): counted once, outside
                return fn(*args, **kwargs)
            active.append(name)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                active.pop()
                spent[name] += time.perf_counter() - start
                if name == "storage" and in_fit[0]:  # trial.report() inside an epoch
                    spent["storage_in_fit"] += time.perf_counter() - start

        return wrapper

    keras.backend.clear_session = timed("clear", keras.backend.clear_session)
    gc.collect = timed("clear", gc.collect)
    model_mod.build_stacked_lstm = timed("build", model_mod.build_stacked_lstm)
    train_mod.score_test = timed("score", train_mod.score_test)
    epoch_ends: list[float] = []
    original_fit = train_mod.fit_model

    def fit(*args, **kwargs):
        hook = kwargs.get("on_epoch_end")

        def on_epoch_end(epoch, logs):
            epoch_ends.append(time.perf_counter())
            if hook:
                hook(epoch, logs)

        kwargs["on_epoch_end"] = on_epoch_end
        epoch_ends.clear()
        in_fit[0] = True
        start = time.perf_counter()
        result = original_fit(*args, **kwargs)
        spent["fit"] += time.perf_counter() - start
        in_fit[0] = False
        marks = [start, *epoch_ends]
        durations = [b - a for a, b in zip(marks, marks[1:])]
        steady = statistics.median(durations[1:]) if len(durations) > 1 else durations[0]
        spent["first_excess"] += durations[0] - steady
        spent["steady_epochs"] += steady * len(durations)
        spent["epochs"] += len(durations)
        return result

    train_mod.fit_model = fit

    with tempfile.TemporaryDirectory() as tmp:
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}/t.db")
        for name in (
            "create_new_trial",
            "set_trial_param",
            "set_trial_user_attr",
            "set_trial_intermediate_value",
            "set_trial_state_values",
            "set_trial_system_attr",
        ):
            setattr(storage, name, timed("storage", getattr(storage, name)))
        data = benchmarks.load("adding", length=20, n_train=1024, n_val=256, n_test=256)
        space = SearchSpace(depth=(1, 2), units=(16, 32), learning_rate=(1e-3, 1e-2))
        objective = StackedLSTMObjective(data, space, epochs=epochs, patience=None, prune=False)
        study = optuna.create_study(
            storage=storage, direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(objective, n_trials=1)  # warm-up: imports and first-ever compilation
        if freeze:
            from stacksearch.search.loop import _freeze_long_lived_objects

            _freeze_long_lived_objects()
        spent.clear()
        start = time.perf_counter()
        study.optimize(objective, n_trials=trials)
        total = time.perf_counter() - start
    spent["total"] = total
    print(json.dumps({"backend": backend, "freeze": freeze, "trials": trials, **spent}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--freeze", nargs="+", choices=["on", "off"], default=["off", "on"])
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.trials, args.epochs, args.freeze == ["on"])
        return
    rows = []
    for backend, freeze in [(b, f) for b in args.backends for f in args.freeze]:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            backend,
            "--freeze",
            freeze,
            "--trials",
            str(args.trials),
            "--epochs",
            str(args.epochs),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        if not got:
            print(f"# {backend} failed: {proc.stderr.strip().splitlines()[-3:]}")
        rows.extend(got)
    print(
        f"# seconds per trial (mean of {args.trials} trials of {args.epochs} epochs, adding T=20, 1024 sequences, "
        f"depth 1-2 x 16-32 units, SQLite storage, no tracking)"
    )
    parts = ["clear", "build", "first_excess", "fit_setup", "score", "storage", "other", "steady_epochs", "total"]
    print(f"{'backend':<11} {'gc.freeze':>9} " + " ".join(f"{p:>12}" for p in parts) + f" {'outside steady':>15}")
    for r in rows:
        n = r["trials"]
        r["storage"] = r.get("storage", 0.0)
        r["fit_setup"] = r["fit"] - r["first_excess"] - r["steady_epochs"]  # before epoch 0, after the last
        outside_fit = r["storage"] - r.get("storage_in_fit", 0.0)
        r["other"] = r["total"] - r["fit"] - r.get("clear", 0) - r.get("build", 0) - r.get("score", 0) - outside_fit
        r["steady_epochs"] -= r.get("storage_in_fit", 0.0)  # per-epoch reports are counted as storage
        outside = 1 - r["steady_epochs"] / r["total"]
        print(
            f"{r['backend']:<11} {'on' if r['freeze'] else 'off':>9} "
            + " ".join(f"{r.get(p, 0.0) / n:>12.3f}" for p in parts)
            + f" {outside:>14.0%}"
        )


if __name__ == "__main__":
    main()
