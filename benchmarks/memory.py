"""Memory: resident set size of one worker across many small trials (must stay flat).

    nice -n 10 python benchmarks/memory.py                   # 50 trials, tensorflow
    KERAS_BACKEND=jax nice -n 10 python benchmarks/memory.py --trials 50

Runs the real ``StackedLSTMObjective`` (SQLite storage in a temporary folder, random
sampler so that shapes vary, MLflow off unless ``--tracking``) and prints the current and
peak RSS after every trial, then the least-squares slope of RSS over the second half of
the trials (after the allocator and graph caches have warmed up) in MB per trial.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import optuna  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tracking", action="store_true", help="log every trial to a local MLflow store too")
    args = parser.parse_args()

    from stacksearch import benchmarks
    from stacksearch.model import select_backend
    from stacksearch.objective import StackedLSTMObjective
    from stacksearch.space import SearchSpace

    backend = select_backend(None)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    data = benchmarks.load("adding", length=20, n_train=512, n_val=128, n_test=128)
    space = SearchSpace(depth=(1, 3), units=(8, 64), learning_rate=(1e-3, 1e-2))
    rows: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        listeners, callbacks = [], []
        if args.tracking:
            from stacksearch.tracking import MLflowTracker

            tracker = MLflowTracker(tracking_uri=f"sqlite:///{tmp}/mlflow.db", experiment="memory", log_models="none")
            listeners, callbacks = [tracker], [tracker]
        study = optuna.create_study(storage=f"sqlite:///{tmp}/memory.db", direction="minimize",
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        if args.tracking:
            tracker.setup(study)
        objective = StackedLSTMObjective(data, space, epochs=args.epochs, patience=None, prune=False,
                                         listeners=listeners)
        print(f"# backend {backend}; {args.trials} trials of {args.epochs} epochs; MB")
        print(f"{'trial':>5} {'shape':>8} {'rss':>8} {'peak':>8}")
        for i in range(args.trials):
            study.optimize(objective, n_trials=1, callbacks=callbacks)
            t = study.trials[-1]
            shape = f"{t.params['depth']}x{t.params['units']}"
            rows.append((i, rss_mb(), peak_mb()))
            print(f"{i:>5} {shape:>8} {rows[-1][1]:>8.1f} {rows[-1][2]:>8.1f}", flush=True)
    half = rows[len(rows) // 2:]
    slope = np.polyfit([r[0] for r in half], [r[1] for r in half], 1)[0]
    print(f"# RSS: after trial 1 {rows[0][1]:.1f} MB, after trial {len(rows)} {rows[-1][1]:.1f} MB, "
          f"peak {rows[-1][2]:.1f} MB; slope over trials {half[0][0] + 1}-{len(rows)}: {slope:+.3f} MB/trial")


if __name__ == "__main__":
    main()
