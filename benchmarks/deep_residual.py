"""Deep stacks with and without residual connections on the adding problem.

Trains the same stacked LSTM (shared width, one learning rate, same epochs) as a plain
stack and with ``residual=True`` at every depth given, over several seeds, with
stacksearch's own builder and fit loop (best-epoch restore, no early stopping, no
pruning). Prints one row per run and the median test MSE per
(depth, variant), with how many seeds solved the task (test MSE below ``--solved``; the
trivial predict-1 baseline is 0.167).

    KERAS_BACKEND=jax taskset -c 0 nice -n 10 python benchmarks/deep_residual.py   # docs/benchmarks.md
    KERAS_BACKEND=jax taskset -c 0 python benchmarks/deep_residual.py --depths 2 8 --seeds 0 1 --epochs 10

(JAX is the fastest Keras backend on CPU at these widths, docs/speed.md; ``taskset -c 0``
keeps the run on one core.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def run_one(data, depth: int, width: int, residual: bool, seed: int, args: argparse.Namespace) -> dict:
    import keras

    from stacksearch.model import build_stacked_lstm
    from stacksearch.space import ArchSpec
    from stacksearch.train import fit_model, score_test

    keras.backend.clear_session(free_memory=True)
    keras.utils.set_random_seed(seed)
    spec = ArchSpec((width,) * depth, learning_rate=args.learning_rate, residual=residual)
    model = build_stacked_lstm(spec, data)
    started = time.perf_counter()
    result = fit_model(model, data, epochs=args.epochs, batch_size=args.batch_size, patience=None)
    return {
        "depth": depth,
        "residual": residual,
        "seed": seed,
        "n_params": model.count_params(),
        "best_val_mse": round(result.best_value, 5),
        "test_mse": round(score_test(model, data, args.batch_size), 5),
        "best_epoch": result.best_epoch,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[8])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--solved", type=float, default=0.05)
    parser.add_argument("--json", help="also write every run to this file")
    args = parser.parse_args()

    import keras

    from stacksearch import benchmarks

    data = benchmarks.load("adding", length=args.length, n_train=args.n_train, n_val=500, n_test=500, seed=0)
    print(
        f"# adding T={args.length}, {args.n_train} training cases, width {args.width}, "
        f"{args.epochs} epochs, backend {keras.backend.backend()}"
    )
    runs = []
    for depth in args.depths:
        for seed in args.seeds:
            for residual in (False, True):
                row = run_one(data, depth, args.width, residual, seed, args)
                runs.append(row)
                print(json.dumps(row), flush=True)
    print(f"\n| depth | variant | params | median test MSE | seeds solved (< {args.solved:g}) | median seconds |")
    print("|---|---|---|---|---|---|")
    for depth in args.depths:
        for residual in (False, True):
            rows = [r for r in runs if r["depth"] == depth and r["residual"] == residual]
            mses = [r["test_mse"] for r in rows]
            solved = sum(m < args.solved for m in mses)
            print(
                f"| {depth} | {'residual' if residual else 'plain'} | {rows[0]['n_params']} | "
                f"{statistics.median(mses):.4f} | {solved} / {len(rows)} | "
                f"{statistics.median(r['seconds'] for r in rows):.0f} |"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "runs": runs}, handle, indent=1)


if __name__ == "__main__":
    main()
