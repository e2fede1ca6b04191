"""Scaling: the same study run with 1, 2 and 4 local workers (``stacksearch run --workers N``).

Each run is a fresh study of ``--n-trials`` trials (adding problem, T=20, 1,024 training
sequences, 4 epochs, random sampler, no pruning: every trial does the same work) in a
fresh SQLite file. Wall time counts everything a user waits for: process start, imports,
study creation and every trial. Prints trials per hour, the speed-up over one worker, the
median trial's train_seconds, CPU seconds per trial (all processes), and the load average
(other users of the machine distort wall times; CPU seconds much less).

    nice -n 10 python benchmarks/scaling.py                     # 1, 2, 4 workers, 16 trials
    nice -n 10 python benchmarks/scaling.py --workers 1 2 --n-trials 8 --storage postgresql+psycopg://root@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

STUDY = """
study: {{name: {name}, n_trials: {n_trials}, seed: 0, sampler: random, pruner: none}}
benchmark: {{name: adding, args: {{length: 20, n_train: 1024, n_val: 256, n_test: 256, seed: 0}}}}
space: {{depth: [1, 2], units: [16, 32], learning_rate: [0.001, 0.01]}}
training: {{epochs: 4, batch_size: 64, patience: null}}
tracking: false
report: false
"""


def run_once(workers: int, n_trials: int, storage: str | None, folder: Path) -> dict:
    name = f"scaling-{workers}w-{uuid.uuid4().hex[:6]}"
    study_file = folder / f"{name}.yaml"
    study_file.write_text(STUDY.format(name=name, n_trials=n_trials), encoding="utf-8")
    url = storage or f"sqlite:///{folder / (name + '.db')}"
    env = {**os.environ, "STACKSEARCH_STORAGE": url, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("STACKSEARCH_WORKER", None)
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "stacksearch.cli", "run", str(study_file), "--workers", str(workers), "--no-report"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its workers, all waited for
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{workers} workers failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    study = optuna.load_study(study_name=name, storage=url)
    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    train = statistics.median(t.user_attrs["train_seconds"] for t in finished)
    if storage:
        optuna.delete_study(study_name=name, storage=url)
    return {
        "workers": workers,
        "trials": len(finished),
        "wall": wall,
        "train": train,
        "cpu": cpu,
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--n-trials", type=int, default=16)
    parser.add_argument("--storage", help="storage URL (default: a fresh SQLite file per run)")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory(prefix="stacksearch-scaling-") as tmp:
        for workers in args.workers:
            rows.append(run_once(workers, args.n_trials, args.storage, Path(tmp)))
            print(f"  {workers} workers: {rows[-1]['wall']:.1f} s", file=sys.stderr, flush=True)
    base = rows[0]["trials"] / rows[0]["wall"]
    print(f"{os.cpu_count()} CPUs, {args.n_trials} trials per run, storage {args.storage or 'sqlite (fresh file)'}")
    print(
        "| workers | trials | wall s | trials per hour | speed-up | median train s per trial "
        "| CPU s per trial | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        rate = row["trials"] / row["wall"]
        print(
            f"| {row['workers']} | {row['trials']} | {row['wall']:.1f} | {rate * 3600:.0f} | "
            f"{rate / base:.2f}x | {row['train']:.2f} | {row['cpu'] / row['trials']:.1f} | {row['load']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
