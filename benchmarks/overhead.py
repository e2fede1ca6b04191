"""Overhead of stacksearch against the same fits written as a bare Keras loop.

Runs a study of N trials (fixed epochs, no pruning, no early stopping, tracking off,
SQLite storage), then trains the very same architectures with a hand-written Keras loop
(build, compile, fit with validation data, keep the best epoch's weights, score the test
split). Rounds alternate study/bare so machine noise hits both; the figure is the median
of the per-round ratios.

    python benchmarks/overhead.py --trials 6 --epochs 4 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def bare_loop(specs: list[dict], data, epochs: int, batch_size: int) -> float:
    """Train each spec the way a user would by hand; return wall seconds."""
    import keras

    start = time.perf_counter()
    for spec in specs:
        keras.backend.clear_session()
        keras.utils.set_random_seed(spec["seed"])
        inputs = keras.Input(shape=(None, data.n_features))
        x = inputs
        for i, units in enumerate(spec["widths"]):
            x = keras.layers.LSTM(units, return_sequences=i < len(spec["widths"]) - 1)(x)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        model.compile(optimizer=keras.optimizers.Adam(spec["learning_rate"]), loss="mse", metrics=["mse"])
        best = keras.callbacks.EarlyStopping(monitor="val_mse", patience=epochs, restore_best_weights=True)
        model.fit(
            data.x_train,
            data.y_train[:, None],
            validation_data=(data.x_val, data.y_val[:, None]),
            epochs=epochs,
            batch_size=batch_size,
            callbacks=[best],
            verbose=0,
        )
        model.evaluate(data.x_test, data.y_test[:, None], verbose=0)
    return time.perf_counter() - start


def study_run(folder: str, name: str, trials: int, epochs: int, batch_size: int, seed: int):
    """Run the study with stacksearch; return (wall seconds, the specs it trained)."""
    from stacksearch.config import validate_config
    from stacksearch.search import run_study

    config = validate_config(
        {
            "study": {
                "name": name,
                "n_trials": trials,
                "seed": seed,
                "sampler": "random",
                "pruner": "none",
                "storage": f"sqlite:///{folder}/overhead.db",
            },
            "benchmark": {"name": "adding", "args": {"length": 30, "n_train": 2000, "n_val": 500, "n_test": 500}},
            "space": {"depth": [1, 3], "units": [16, 64], "learning_rate": [0.001, 0.01]},
            "training": {"epochs": epochs, "batch_size": batch_size, "patience": None},
            "tracking": False,
            "report": False,
        }
    )
    start = time.perf_counter()
    study = run_study(config)
    wall = time.perf_counter() - start
    specs = [
        {"widths": t.user_attrs["widths"], "learning_rate": t.params["learning_rate"], "seed": t.user_attrs["seed"]}
        for t in study.trials
    ]
    return wall, specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from stacksearch import benchmarks

    data = benchmarks.load("adding", length=30, n_train=2000, n_val=500, n_test=500)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        study_run(folder, "warmup", 1, 1, args.batch_size, 99)  # load and trace once before timing
        for round_index in range(args.rounds):
            study_s, specs = study_run(
                folder, f"round{round_index}", args.trials, args.epochs, args.batch_size, round_index
            )
            bare_s = bare_loop(specs, data, args.epochs, args.batch_size)
            rows.append((round_index, study_s, bare_s, study_s / bare_s))
    print("| round | stacksearch study (s) | bare Keras loop (s) | ratio |")
    print("|---|---|---|---|")
    for index, study_s, bare_s, ratio in rows:
        print(f"| {index} | {study_s:.2f} | {bare_s:.2f} | {ratio:.3f} |")
    median = statistics.median(r[3] for r in rows)
    print(
        f"\nmedian ratio {median:.3f} -> overhead {100 * (median - 1):+.1f}% "
        f"({args.trials} trials x {args.epochs} epochs per round, {args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
