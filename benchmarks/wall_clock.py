"""Search efficiency in seconds: the best validation score each method holds, against wall time.

Real searches, not the replay: every method trains real models on the quickstart's data
(adding, T=10, 1000 training sequences) over the space of ``benchmarks/data/adding_short_grid.json``
(depth 1-3, units 8-64, learning rate 1e-4..1e-2, 9 epochs of batch 64, early stopping patience 3),
in its own process, one run at a time (each has the whole machine), with the same wall-clock
budget counted from the process's start (imports and data loading included, as a user waits).
The target is the grid's best validation MSE (mean curve over its training seeds) + 2%.

Methods:
- ``stacksearch``: ``stacksearch run`` with its defaults (TPE with the depth-stratified start-up,
  Hyperband), confirmation, tracking and report off, ``--timeout`` the budget;
- ``stacksearch-w2`` / ``stacksearch-w4``: the same with ``--workers 2`` / ``--workers 4``;
- ``stacksearch-step8``: the same with ``units_step: 8`` (widths 8, 16, ... 64);
- ``stacksearch-jax``: the same on JAX (``--backend jax``; the others run on TensorFlow, ``backend: auto``'s
  pick on a CPU);
- ``random``: ``stacksearch run`` with random sampling and no pruning;
- ``library``: the README's library example (``ss.default_sampler``, ``ss.default_pruner`` and
  ``ss.StackedLSTMObjective`` in the user's own ``study.optimize(timeout=...)``);
- ``kt-random`` / ``kt-hyperband``: KerasTuner ``RandomSearch`` and ``Hyperband`` (max_epochs 9,
  factor 3) building the same models (``ss.build_stacked_lstm``); needs ``pip install ".[bench]"``.

A method holds, at time t, the best score of the trials it finished by t (Optuna: COMPLETE
trials; KerasTuner: its best trial, as ``get_best_models`` would hand back). Seeds change the
sampler and training seeds, not the data.

    python benchmarks/wall_clock.py --seeds 0 1 2 --budget 150 --out wall_clock.json --plot docs/img/wall_clock.png
    python benchmarks/wall_clock.py --seeds 0 --budget 30 --methods stacksearch kt-random   # a quick look
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
from pathlib import Path

import yaml

GRID = Path(__file__).parent / "data" / "adding_short_grid.json"
DATA = {"length": 10, "n_train": 1000, "n_val": 250, "n_test": 1, "seed": 0}
SPACE = {"depth": [1, 3], "units": [8, 64], "learning_rate": [1e-4, 1e-2]}
TRAINING = {"epochs": 9, "batch_size": 64, "patience": 3}
CLI_METHODS = {  # name -> (study keys, space keys, extra flags)
    "stacksearch": ({}, {}, []),
    "stacksearch-w2": ({}, {}, ["--workers", "2"]),
    "stacksearch-w4": ({}, {}, ["--workers", "4"]),
    "stacksearch-step8": ({}, {"units_step": 8}, []),
    "stacksearch-jax": ({}, {}, ["--backend", "jax"]),
    "random": ({"sampler": "random", "pruner": "none"}, {}, []),
}
CHILD_METHODS = ("library", "kt-random", "kt-hyperband")
METHODS = (*CLI_METHODS, *CHILD_METHODS)


def grid_target(path: Path = GRID) -> tuple[float, float]:
    """The grid's best validation MSE (each configuration's mean curve over seeds) and the target (+2%)."""
    from search_efficiency import Table  # the replay's reading of a grid table (not at the top: children skip it)

    table = Table(path)
    return table.best, table.target


def run_cli(method: str, seed: int, budget: float, folder: Path) -> dict:
    """``stacksearch run`` of ``method``: (seconds from the command's start, value) of each COMPLETE trial, and
    how many trials trained on a kept compiled model."""
    import optuna

    study_keys, space_keys, flags = CLI_METHODS[method]
    config = {
        "study": {"name": "wall", "seed": seed, "n_trials": 100_000, **study_keys},
        "benchmark": {"name": "adding", "args": DATA},
        "space": {**SPACE, **space_keys},
        "training": TRAINING,
        "confirm": False,
        "tracking": False,
        "report": False,
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(config))
    start = time.time()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("stacksearch")), "run", "study.yaml", "--timeout", str(budget), *flags],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=budget + 300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{method} seed {seed}: exit {done.returncode}: {done.stderr[-600:]}")
    study = optuna.load_study(study_name="wall", storage=f"sqlite:///{folder / 'stacksearch.db'}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {
        "events": sorted((t.datetime_complete.timestamp() - start, float(t.value)) for t in complete),
        "finished": sum(t.state.is_finished() for t in study.trials),
        "reused": sum(bool(t.user_attrs.get("reused_model")) for t in study.trials),
    }


def run_child(method: str, seed: int, budget: float, folder: Path) -> dict:
    """``method`` in a child process of this script; it logs (unix time, score) per finished trial."""
    events = folder / "events.jsonl"
    start = time.time()
    subprocess.run(
        [sys.executable, __file__, "--child", method, "--seeds", str(seed), "--budget", str(budget)]
        + ["--start", repr(start), "--events", str(events)],
        cwd=folder,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"},
        timeout=budget + 300,
        capture_output=True,
    )
    rows = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
    return {
        "events": sorted((r["time"] - start, r["value"]) for r in rows if r["value"] is not None),
        "finished": len(rows),
        "reused": None,
    }


def child(method: str, seed: int, budget: float, start: float, events: Path) -> None:
    """The ``library`` and KerasTuner methods, as a user would write them (runs in the child process)."""
    import stacksearch as ss

    deadline = start + budget
    data = ss.benchmarks.load("adding", **DATA)

    def log(value: float | None) -> None:
        with events.open("a") as f:
            f.write(json.dumps({"time": time.time(), "value": value}) + "\n")

    if method == "library":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        space = ss.SearchSpace(**{key: tuple(bounds) for key, bounds in SPACE.items()})
        objective = ss.StackedLSTMObjective(data, space, **TRAINING, seed=seed)
        study = optuna.create_study(
            storage="sqlite:///mine.db",
            study_name="mine",
            direction="minimize",
            sampler=ss.default_sampler(space, n_trials=50, seed=seed),
            pruner=ss.default_pruner(epochs=TRAINING["epochs"]),
        )

        def logged(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            log(trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None)

        study.optimize(objective, timeout=max(0.0, deadline - time.time()), callbacks=[logged])
        return
    _keras_tuner(method, seed, deadline, data, log)


class _OutOfTime(Exception):
    """The budget is spent: no new KerasTuner trial starts."""


def _keras_tuner(method: str, seed: int, deadline: float, data, log) -> None:
    import keras
    import keras_tuner as kt

    import stacksearch as ss

    def build(hp: kt.HyperParameters) -> keras.Model:
        depth = hp.Int("depth", *SPACE["depth"])
        units = hp.Int("units", *SPACE["units"], sampling="log")
        learning_rate = hp.Float("learning_rate", *SPACE["learning_rate"], sampling="log")
        return ss.build_stacked_lstm(ss.ArchSpec((units,) * depth, learning_rate=learning_rate), data)

    base = kt.RandomSearch if method == "kt-random" else kt.Hyperband

    class Timed(base):  # type: ignore[misc, valid-type]
        def pre_create_trial(self) -> None:
            if time.time() >= deadline:
                raise _OutOfTime
            super().pre_create_trial()

        def on_trial_end(self, trial) -> None:
            super().on_trial_end(trial)
            log(self.oracle.get_trial(trial.trial_id).score)

    options = {"max_trials": 100_000} if method == "kt-random" else {"max_epochs": TRAINING["epochs"], "factor": 3}
    folder = {"directory": "kt", "project_name": "wall", "overwrite": True}
    tuner = Timed(build, objective="val_loss", seed=seed, **folder, **options)
    stop = keras.callbacks.EarlyStopping(patience=TRAINING["patience"], restore_best_weights=True)
    try:
        tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            epochs=TRAINING["epochs"],
            batch_size=TRAINING["batch_size"],
            callbacks=[stop],
            verbose=0,
        )
    except _OutOfTime:
        pass


def best_at(events: list[tuple[float, float]], t: float) -> float | None:
    """The best value finished by ``t`` seconds, or None."""
    values = [v for s, v in events if s <= t]
    return min(values) if values else None


def time_to(events: list[tuple[float, float]], target: float, budget: float) -> float | None:
    """Seconds until a finished trial's value was within the target, or None if not within ``budget``."""
    return next((s for s, v in events if v <= target and s <= budget), None)


def summarize(runs: list[dict], target: float, budget: float) -> list[dict]:
    """Per method: best at the budget (median, min, max), seconds to the target (median; misses count as beyond)."""
    out = []
    for method in dict.fromkeys(r["method"] for r in runs):
        mine = [r for r in runs if r["method"] == method]
        finals = [best_at(r["events"], budget) for r in mine]
        reached = [time_to(r["events"], target, budget) for r in mine]
        out.append(
            {
                "method": method,
                "seeds": len(mine),
                "finished": statistics.median(r["finished"] for r in mine),
                "complete_in_budget": statistics.median(sum(s <= budget for s, _ in r["events"]) for r in mine),
                "reused": None if mine[0]["reused"] is None else statistics.median(r["reused"] for r in mine),
                "best_median": _median(finals),
                "best_min": min((v for v in finals if v is not None), default=None),
                "best_max": max((v for v in finals if v is not None), default=None),
                "reached": sum(s is not None for s in reached),
                "seconds_to_target": reached,
                "seconds_to_target_median": _median(reached),
            }
        )
    return out


def _median(values: list[float | None]) -> float | None:
    """The (lower) median with None (nothing finished, or never reached) ranked worst."""
    ranked = sorted(values, key=lambda v: float("inf") if v is None else v)
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def plot(runs: list[dict], target: float, budget: float, path: Path) -> None:
    """Median best-so-far over seeds against wall time, one line per method, the target dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    grid = [budget * i / 200 for i in range(1, 201)]
    for method in dict.fromkeys(r["method"] for r in runs):
        mine = [r["events"] for r in runs if r["method"] == method]
        curve = [_median([best_at(e, t) for e in mine]) for t in grid]
        ax.step(grid, [float("nan") if v is None else v for v in curve], where="post", label=method)
    ax.axhline(target, color="grey", linestyle="--", linewidth=1, label="grid best + 2%")
    ax.set(xlabel="wall seconds from the command's start", ylabel="best validation MSE (median over seeds)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=150.0, help="wall seconds per run")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--child", choices=CHILD_METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.seeds[0], args.budget, args.start, args.events)
    best, target = grid_target()
    print(f"grid best {best:.6f}, target {target:.6f}, budget {args.budget:.0f} s", flush=True)
    runs = []
    for round_, seed in enumerate(args.seeds):
        order = args.methods[round_ % len(args.methods) :] + args.methods[: round_ % len(args.methods)]
        for method in order:
            with tempfile.TemporaryDirectory(prefix=f"wall-{method}-") as folder:
                run = run_cli if method in CLI_METHODS else run_child
                result = run(method, seed, args.budget, Path(folder))
            events = result["events"]
            runs.append({"method": method, "seed": seed, **result})
            print(json.dumps({"method": method, "seed": seed, "finished": result["finished"],
                              "reused": result["reused"],
                              "best": best_at(events, args.budget),
                              "to_target": time_to(events, target, args.budget)}), flush=True)  # fmt: skip
            summary = summarize(runs, target, args.budget)
            if args.out:
                record = {"grid_best": best, "target": target, "budget": args.budget, "summary": summary, "runs": runs}
                args.out.write_text(json.dumps(record, indent=1))
    for row in summarize(runs, target, args.budget):
        print(json.dumps(row))
    if args.plot:
        plot(runs, target, args.budget, args.plot)


if __name__ == "__main__":
    main()
