"""JAX's persistent compilation cache: a trial's first epoch without it, with it cold, and with it warm.

Each process builds and trains (3 epochs each, through stacksearch's own ``build_stacked_lstm``
and ``fit_model``) the sequence: A, A again, B, with A a 2x24 and B a 1x16 stacked LSTM on the
adding problem (length 10, 1000 training sequences, batch 64), as a search that meets a repeated
architecture would. Three processes per round, each fresh:

- ``none``: no cache (the default before stacksearch set one);
- ``cold``: an empty cache folder, which this process fills (A again finds A's programs);
- ``warm``: the folder ``cold`` filled, read by a new process (another worker, or the
  replacement process ``recycle_after`` starts).

It prints each step's first epoch and its steady epoch (the median of the later ones), with
medians over rounds. Setting up the cache is :func:`stacksearch.backend.use_compilation_cache`.

    python benchmarks/jax_cache.py --rounds 3    # docs/performance.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

STEPS = (("A", (24, 24)), ("A again", (24, 24)), ("B", (16,)))


def worker(cache: str | None) -> None:
    os.environ["KERAS_BACKEND"] = "jax"
    from stacksearch import benchmarks
    from stacksearch.backend import select_backend, use_compilation_cache
    from stacksearch.model import build_stacked_lstm, fresh_session
    from stacksearch.space import ArchSpec
    from stacksearch.train import fit_model

    select_backend("jax")
    if cache is not None:
        use_compilation_cache(Path(cache))
    data = benchmarks.load("adding", length=10, n_train=1000, n_val=250, n_test=250, seed=0)
    out = []
    for name, widths in STEPS:
        fresh_session(0)
        model = build_stacked_lstm(ArchSpec(widths, learning_rate=0.01), data)
        result = fit_model(model, data, epochs=3, batch_size=64, patience=None, prune=False)
        seconds = result.epoch_seconds
        out.append({"step": name, "first_s": seconds[0], "steady_s": statistics.median(seconds[1:])})
    print(json.dumps(out))


def run(cache: str | None) -> list[dict]:
    command = [sys.executable, __file__, "--worker"] + ([] if cache is None else ["--cache", cache])
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.cache)
        return
    rows: list[dict] = []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="jax-cache-") as folder:
            for mode, cache in (("none", None), ("cold", folder), ("warm", folder)):
                for step in run(cache):
                    rows.append({"round": index, "mode": mode, **step})
                    print(json.dumps(rows[-1]), flush=True)
    print(f"{'mode':6} {'step':8} {'first epoch s':>14} {'steady epoch s':>15}   (medians of {args.rounds})")
    for mode in ("none", "cold", "warm"):
        for name, _ in STEPS:
            mine = [r for r in rows if r["mode"] == mode and r["step"] == name]
            first = statistics.median(r["first_s"] for r in mine)
            steady = statistics.median(r["steady_s"] for r in mine)
            print(f"{mode:6} {name:8} {first:14.2f} {steady:15.3f}")


if __name__ == "__main__":
    main()
