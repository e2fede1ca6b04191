"""Keras's ``steps_per_execution`` over the quickstart's shapes: first and steady epoch seconds.

Builds the quickstart's models (adding, T=10, 1,000 sequences, batch 64, so 16 steps per
epoch; 1 x 16, 2 x 24 and 3 x 32 stacked LSTMs) and trains each 4 epochs with
``steps_per_execution`` 1 (Keras's default and stacksearch's), 4 and 16, each in a fresh
process, rounds interleaved; prints the medians of the first epoch (tracing included) and of
the steady epochs.

    python benchmarks/steps_per_execution.py --rounds 3      # docs/performance.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

SHAPES = ((16,), (24, 24), (32, 32, 32))


def worker(steps: int, backend: str) -> None:
    os.environ["KERAS_BACKEND"] = backend
    import keras

    from stacksearch import benchmarks
    from stacksearch.model import build_stacked_lstm, fresh_session
    from stacksearch.space import ArchSpec
    from stacksearch.train import fit_model

    data = benchmarks.load("adding", length=10, n_train=1000, n_val=250, n_test=250, seed=0)
    out = []
    for widths in SHAPES:
        fresh_session(0)
        model = build_stacked_lstm(ArchSpec(widths, learning_rate=0.01), data, compile=False)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mse"], steps_per_execution=steps)
        seconds = fit_model(model, data, epochs=4, batch_size=64, patience=None, prune=False).epoch_seconds
        out.append(
            {"shape": "x".join(map(str, widths)), "first_s": seconds[0], "steady_s": statistics.median(seconds[1:])}
        )
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.backend)
        return
    rows = []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for _ in range(args.rounds):
        for steps in args.steps:
            command = [sys.executable, __file__, "--worker", str(steps), "--backend", args.backend]
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
            for row in json.loads(done.stdout.strip().splitlines()[-1]):
                rows.append({"steps": steps, **row})
    print(
        f"{'steps':>5} {'shape':>8} {'first epoch s':>14} {'steady epoch s':>15}"
        f"   ({args.backend}, medians of {args.rounds})"
    )
    for steps in args.steps:
        for widths in SHAPES:
            name = "x".join(map(str, widths))
            mine = [r for r in rows if r["steps"] == steps and r["shape"] == name]
            first = statistics.median(r["first_s"] for r in mine)
            steady = statistics.median(r["steady_s"] for r in mine)
            print(f"{steps:5d} {name:>8} {first:14.2f} {steady:15.3f}")


if __name__ == "__main__":
    main()
