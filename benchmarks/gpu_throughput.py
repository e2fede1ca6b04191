"""GPU throughput: trials per hour of a small-model search on the GPU against 2 CPU cores.

Issue 7, item 6: small stacked LSTMs at batch 64 leave a GPU mostly idle, so the GPU run
uses several workers sharing the card (``stacksearch run --workers N``: on-demand GPU
memory, one framework per worker). Both searches run *at the same time* on one machine,
for the same number of seconds, on the same study (random sampler, no pruning, a fixed
number of epochs, so every trial does comparable work):

- ``cpu``: ``stacksearch run --workers C`` pinned to 2 cores (``sched_setaffinity``) with
  no GPU visible (``CUDA_VISIBLE_DEVICES=""``): what a 2-core machine like the
  development one does; its backend is ``auto``'s CPU pick among those installed;
- ``gpu``: ``stacksearch run --workers G`` on the other cores with the GPU visible.

Printed for each: finished trials, trials per hour over the whole run (start-up
included), and the steady rate between the first and the last finished trial; then the
GPU/CPU ratio (goal: at least 5x). Without a GPU the script still runs (both on CPU), which
checks its mechanics, not the goal.

    python benchmarks/gpu_throughput.py --seconds 90                  # on the GPU machine
    python benchmarks/gpu_throughput.py --seconds 40 --gpu-workers 2  # mechanics check on a CPU
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

STUDY = """
study: {{name: {name}, n_trials: 100000, seed: 0, sampler: random, pruner: none, timeout: {seconds}}}
benchmark: {{name: adding, args: {{length: 50, n_train: 2048, n_val: 256, n_test: 256, seed: 0}}}}
space: {{depth: [1, 3], units: [16, 64], learning_rate: [0.001, 0.01]}}
training: {{epochs: {epochs}, batch_size: {batch}, patience: null}}
tracking: false
report: false
"""


def start(
    kind: str, workers: int, cores: list[int], seconds: float, epochs: int, batch: int, folder: Path
) -> tuple[subprocess.Popen, str, str]:
    name = f"throughput-{kind}"
    study_file = folder / f"{name}.yaml"
    study_file.write_text(STUDY.format(name=name, seconds=seconds, epochs=epochs, batch=batch), encoding="utf-8")
    url = f"sqlite:///{folder / (name + '.db')}"
    env = {**os.environ, "STACKSEARCH_STORAGE": url, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("STACKSEARCH_WORKER", None)
    if kind == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    with open(folder / f"{name}.stderr", "w", encoding="utf-8") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stacksearch.cli", "run", str(study_file), "--workers", str(workers), "--no-report"],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
    return proc, name, url


def rates(name: str, url: str, wall: float) -> dict:
    study = optuna.load_study(study_name=name, storage=url)
    done = sorted(
        t.datetime_complete.timestamp()
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    )
    backend = next((t.user_attrs.get("backend") for t in study.trials if "backend" in t.user_attrs), "?")
    steady = (len(done) - 1) / (done[-1] - done[0]) * 3600 if len(done) > 1 and done[-1] > done[0] else 0.0
    return {"trials": len(done), "per_hour": len(done) / wall * 3600, "steady_per_hour": steady, "backend": backend}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90, help="study.timeout of both searches")
    parser.add_argument("--cpu-workers", type=int, default=2)
    parser.add_argument("--gpu-workers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cores = sorted(os.sched_getaffinity(0))
    gpu_cores = cores[2 : 2 + 2 * args.gpu_workers]
    if not gpu_cores:
        print(f"# only {len(cores)} cores: both runs share them, so the figures only check the mechanics")
        gpu_cores = cores
    with tempfile.TemporaryDirectory(prefix="stacksearch-throughput-") as tmp:
        began = time.perf_counter()
        runs = {
            "cpu": start("cpu", args.cpu_workers, cores[:2], args.seconds, args.epochs, args.batch_size, Path(tmp)),
            "gpu": start("gpu", args.gpu_workers, gpu_cores, args.seconds, args.epochs, args.batch_size, Path(tmp)),
        }
        walls: dict[str, float] = {}
        while len(walls) < len(runs):
            for kind, (proc, _, _) in runs.items():
                if kind not in walls and proc.poll() is not None:
                    walls[kind] = time.perf_counter() - began
            time.sleep(0.2)
        results = {}
        for kind, (proc, name, url) in runs.items():
            if proc.returncode != 0:
                errors = (Path(tmp) / f"{name}.stderr").read_text(encoding="utf-8")
                raise SystemExit(f"the {kind} run failed (exit {proc.returncode}):\n{errors[-2000:]}")
            results[kind] = rates(name, url, walls[kind])
    print(
        f"# {args.seconds:.0f} s each, at the same time; adding T=50, 2,048 sequences, depth 1-3 x 16-64 units, "
        f"{args.epochs} epochs, batch {args.batch_size}; cores: cpu {cores[:2]}, gpu {gpu_cores}"
    )
    print("| run | workers | backend | finished trials | trials per hour | steady trials per hour |")
    print("|---|---:|---|---:|---:|---:|")
    for kind, workers in (("cpu", args.cpu_workers), ("gpu", args.gpu_workers)):
        r = results[kind]
        print(
            f"| {kind} | {workers} | {r['backend']} | {r['trials']} | {r['per_hour']:.0f} "
            f"| {r['steady_per_hour']:.0f} |"
        )
    cpu, gpu = results["cpu"], results["gpu"]
    if cpu["per_hour"] and cpu["steady_per_hour"]:
        print(
            f"GPU / 2-core CPU: {gpu['per_hour'] / cpu['per_hour']:.2f}x over the whole run, "
            f"{gpu['steady_per_hour'] / cpu['steady_per_hour']:.2f}x steady (goal: at least 5x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
