"""Compute the exhaustive depth x width x learning-rate grid used by search_efficiency.py.

Every configuration is trained for the full budget with no pruning and no early stopping,
and its validation MSE after every epoch is stored, so that search methods can later be
replayed against the table (a tabular benchmark in the style of NAS-Bench-201).

    nice -n 10 python benchmarks/make_grid.py            # writes benchmarks/data/adding_grid.json
    nice -n 10 python benchmarks/make_grid.py --seeds 0 1 # one curve per training seed
    nice -n 10 python benchmarks/make_grid.py --task mackey_glass --seeds 0 1   # the second table
    nice -n 10 python benchmarks/make_grid.py --task adding_short --seeds 0 1 2  # wall_clock.py's target

The grid is ``stacksearch.search.setup.grid_for`` of the space below (the same grid the
``sampler: grid`` option enumerates), so grid search in the replay is stacksearch's own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from stacksearch import benchmarks  # noqa: E402
from stacksearch.search.setup import grid_for  # noqa: E402
from stacksearch.space import ArchSpec, SearchSpace  # noqa: E402

TASKS = {  # name -> (benchmark and its loader arguments, the table file)
    "adding": (
        {"name": "adding", "length": 20, "n_train": 3000, "n_val": 1000, "n_test": 1, "seed": 0},
        "adding_grid.json",
    ),
    # a second, different table (forecasting, not a memory task) to check that defaults tuned on
    # the first one do not get worse elsewhere; MSE so the replay reads the same key
    "mackey_glass": ({"name": "mackey_glass", "n_points": 2000, "metric": "mse", "seed": 0}, "mackey_glass_grid.json"),
    # the quickstart's data (T=10, 1000 training sequences): trials of seconds, so that real searches
    # against the clock (benchmarks/wall_clock.py) fit in minutes
    "adding_short": (
        {"name": "adding", "length": 10, "n_train": 1000, "n_val": 250, "n_test": 1, "seed": 0},
        "adding_short_grid.json",
    ),
}
SPACE = SearchSpace(depth=(1, 3), units=(8, 64), learning_rate=(1e-4, 1e-2))
EPOCHS = 9
BATCH = 64
DATA = Path(__file__).parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="adding")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/data/<task>_grid.json")
    args = parser.parse_args()
    TASK, name = TASKS[args.task]
    args.out = args.out or DATA / name

    import keras

    from stacksearch.model import build_stacked_lstm
    from stacksearch.train import fit_model, monitor_key

    task = {k: v for k, v in TASK.items() if k != "name"}
    data = benchmarks.load(TASK["name"], **task)
    grid = grid_for(SPACE)
    table = json.loads(args.out.read_text()) if args.out.exists() else None
    if table is None or table["task"] != TASK or table["epochs"] != EPOCHS:
        table = {
            "task": TASK,
            "epochs": EPOCHS,
            "batch_size": BATCH,
            "metric": "val_mse",
            "grid": grid,
            "space": {"depth": SPACE.depth, "units": SPACE.units, "learning_rate": SPACE.learning_rate},
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
            "machine": f"{platform.machine()} {os.cpu_count()}-core CPU (shared)",
            "date": date.today().isoformat(),
            "configs": [],
        }
    done = {(c["depth"], c["units"], c["learning_rate"], c["seed"]) for c in table["configs"]}
    combos = list(itertools.product(grid["depth"], grid["units"], grid["learning_rate"], args.seeds))
    print(f"{'depth':>5} {'units':>5} {'lr':>8} {'seed':>4} {'best val_mse':>12} {'s/epoch':>8}")
    for depth, units, lr, seed in combos:
        if (depth, units, lr, seed) in done:
            continue
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        spec = ArchSpec((units,) * depth, learning_rate=lr)
        model = build_stacked_lstm(spec, data)
        start = time.perf_counter()
        result = fit_model(model, data, epochs=EPOCHS, batch_size=BATCH, patience=None, prune=False)
        seconds = time.perf_counter() - start
        curve = [round(v, 7) for v in result.history[monitor_key(data.metric)]]
        table["configs"].append(
            {
                "depth": depth,
                "units": units,
                "learning_rate": lr,
                "seed": seed,
                "n_params": spec.n_params(data.n_features, data.n_outputs),
                "val_mse": curve,
                "seconds": round(seconds, 2),
            }
        )
        args.out.write_text(json.dumps(table, indent=None, separators=(",", ":")))
        print(f"{depth:>5} {units:>5} {lr:>8.0e} {seed:>4} {min(curve):>12.5f} {seconds / EPOCHS:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
