"""Memory: resident set size of one worker across many small trials (must stay flat).

    nice -n 10 python benchmarks/memory.py                          # 50 trials in this process, tensorflow
    KERAS_BACKEND=jax nice -n 10 python benchmarks/memory.py --trials 50
    nice -n 10 python benchmarks/memory.py --trials 30 --malloc-trim    # is it allocator fragmentation?
    nice -n 10 python benchmarks/memory.py --trials 30 --keep-traces    # as before model.released_traces
    nice -n 10 python benchmarks/memory.py --cli --recycle-after 20 # what `stacksearch run` does

Without ``--cli``: runs the real ``StackedLSTMObjective`` in this process (SQLite storage in a
temporary folder, random sampler so that shapes vary, MLflow off unless ``--tracking``) and
prints the current and peak RSS and the wall time of every trial, then the least-squares
slope of RSS over the second half of the trials (after the allocator and graph caches have
warmed up) in MB per trial, and the median trial time of each half.

With ``--cli``: runs ``stacksearch run`` on the same study (one worker, ``study.recycle_after``
from ``--recycle-after``; 0 turns recycling off), samples the RSS of every process under it
from /proc twice a second, and prints each trial's worker process and the highest RSS that
process had by the trial's end; then the peak RSS of each worker process and the median
time between the last trial of one process and the first of its replacement.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import optuna  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


STUDY = """study: {{name: memory, n_trials: {trials}, seed: 0, sampler: random, pruner: none, recycle_after: {recycle}}}
benchmark: {{name: adding, args: {{length: 20, n_train: 512, n_val: 128, n_test: 128}}}}
space: {{depth: [1, 3], units: [8, 64], learning_rate: [0.001, 0.01]}}
training: {{epochs: {epochs}, batch_size: 64, patience: null}}
tracking: false
report: false
"""


def process_tree_rss(root: int) -> dict[int, float]:
    """RSS in MB of ``root`` and every process below it, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    sizes = {}
    for pid in tree:
        try:
            sizes[pid] = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, IndexError):
            continue
    return sizes


def run_cli(
    trials: int, epochs: int, recycle_after: int, spans: list[tuple[float, float, int]]
) -> list[tuple[int, float, int]]:
    """Run ``stacksearch run``; return (trial, its worker's peak RSS by the trial's end, worker pid) rows.

    ``spans`` receives (start, end, worker pid) of every trial.
    """
    with tempfile.TemporaryDirectory() as tmp:
        study_file = Path(tmp) / "memory.yaml"
        study_file.write_text(STUDY.format(trials=trials, epochs=epochs, recycle=recycle_after or "null"))
        env = dict(os.environ, STACKSEARCH_STORAGE=f"sqlite:///{tmp}/memory.db", TF_CPP_MIN_LOG_LEVEL="3")
        proc = subprocess.Popen(
            [sys.executable, "-m", "stacksearch.cli", "run", str(study_file)],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        samples: list[tuple[float, int, float]] = []  # (time, pid, rss)
        while proc.poll() is None:
            now = time.time()
            samples.extend((now, pid, rss) for pid, rss in process_tree_rss(proc.pid).items())
            time.sleep(0.5)
        if proc.returncode != 0:
            raise SystemExit(f"stacksearch run failed with exit code {proc.returncode}")
        study = optuna.load_study(study_name="memory", storage=f"sqlite:///{tmp}/memory.db")
        rows = []
        for t in sorted(study.trials, key=lambda t: t.number):
            pid = int(t.user_attrs["worker"].rsplit(":", 1)[1])
            end = t.datetime_complete.timestamp()
            seen = [rss for when, p, rss in samples if p == pid and when <= end + 0.5]
            rows.append((t.number, max(seen) if seen else float("nan"), pid))
            spans.append((t.datetime_start.timestamp(), end, pid))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tracking", action="store_true", help="log every trial to a local MLflow store too")
    parser.add_argument(
        "--malloc-trim",
        action="store_true",
        help="return free heap pages to the system after every trial (tests for fragmentation)",
    )
    parser.add_argument(
        "--keep-traces",
        action="store_true",
        help="skip model.released_traces (TensorFlow then keeps every trial's traced graphs)",
    )
    parser.add_argument("--no-reuse", action="store_true", help="build every model anew (training.reuse_models: false)")
    parser.add_argument("--cli", action="store_true", help="measure the worker processes of `stacksearch run`")
    parser.add_argument("--recycle-after", type=int, default=20, help="with --cli: study.recycle_after (0: off)")
    args = parser.parse_args()
    if args.cli:
        spans: list[tuple[float, float, int]] = []
        rows = run_cli(args.trials, args.epochs, args.recycle_after, spans)
        print(
            f"# stacksearch run, {args.trials} trials of {args.epochs} epochs, recycle_after "
            f"{args.recycle_after or 'off'}; MB"
        )
        print(f"{'trial':>5} {'worker pid':>10} {'peak rss':>9}")
        for number, peak, pid in rows:
            print(f"{number:>5} {pid:>10} {peak:>9.1f}")
        peaks = {pid: max(r[1] for r in rows if r[2] == pid) for pid in dict.fromkeys(r[2] for r in rows)}
        handovers = [b[0] - a[1] for a, b in zip(spans, spans[1:]) if a[2] != b[2]]
        between = [b[0] - a[1] for a, b in zip(spans, spans[1:]) if a[2] == b[2]]
        print(
            f"# {len(peaks)} worker processes, peak RSS of each: "
            + ", ".join(f"{peak:.0f}" for peak in peaks.values())
            + " MB"
        )
        if handovers:
            print(
                f"# handover to a fresh process: median {statistics.median(handovers):.1f} s between trials "
                f"(within one process: {statistics.median(between):.2f} s)"
            )
        return

    from stacksearch import benchmarks
    from stacksearch.backend import select_backend
    from stacksearch.objective import StackedLSTMObjective
    from stacksearch.space import SearchSpace

    backend = select_backend(None)
    if args.keep_traces:
        import contextlib

        import stacksearch.model

        stacksearch.model.released_traces = contextlib.nullcontext
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    data = benchmarks.load("adding", length=20, n_train=512, n_val=128, n_test=128)
    space = SearchSpace(depth=(1, 3), units=(8, 64), learning_rate=(1e-3, 1e-2))
    rows: list[tuple[int, float, float]] = []
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        listeners, callbacks = [], []
        if args.tracking:
            from stacksearch.tracking import MLflowTracker

            tracker = MLflowTracker(tracking_uri=f"sqlite:///{tmp}/mlflow.db", experiment="memory", log_models="none")
            listeners, callbacks = [tracker], [tracker]
        study = optuna.create_study(
            storage=f"sqlite:///{tmp}/memory.db", direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0)
        )
        if args.tracking:
            tracker.setup(study)
        objective = StackedLSTMObjective(
            data,
            space,
            epochs=args.epochs,
            patience=None,
            prune=False,
            listeners=listeners,
            reuse_models=not args.no_reuse,
        )
        print(
            f"# backend {backend}; {args.trials} trials of {args.epochs} epochs"
            f"{'; traced graphs kept' if args.keep_traces else ''}{'; no reuse' if args.no_reuse else ''}; MB"
        )
        print(f"{'trial':>5} {'shape':>8} {'rss':>8} {'peak':>8} {'seconds':>8}")
        for i in range(args.trials):
            start = time.perf_counter()
            study.optimize(objective, n_trials=1, callbacks=callbacks)
            seconds.append(time.perf_counter() - start)
            if args.malloc_trim:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            t = study.trials[-1]
            shape = f"{t.params['depth']}x{t.params['units']}"
            rows.append((i, rss_mb(), peak_mb()))
            print(f"{i:>5} {shape:>8} {rows[-1][1]:>8.1f} {rows[-1][2]:>8.1f} {seconds[-1]:>8.2f}", flush=True)
    half = rows[len(rows) // 2 :]
    slope = np.polyfit([r[0] for r in half], [r[1] for r in half], 1)[0]
    print(
        f"# RSS: after trial 1 {rows[0][1]:.1f} MB, after trial {len(rows)} {rows[-1][1]:.1f} MB, "
        f"peak {rows[-1][2]:.1f} MB; slope over trials {half[0][0] + 1}-{len(rows)}: {slope:+.3f} MB/trial; "
        f"median seconds per trial: trials 1-{half[0][0]} {statistics.median(seconds[: half[0][0]]):.2f}, "
        f"trials {half[0][0] + 1}-{len(rows)} {statistics.median(seconds[len(rows) // 2 :]):.2f}"
    )


if __name__ == "__main__":
    main()
