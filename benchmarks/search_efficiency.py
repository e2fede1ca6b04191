"""Search efficiency: epochs each method needs to reach within 2% of the grid's best.

A tabular replay (NAS-Bench style): ``benchmarks/data/adding_grid.json`` holds the
validation-MSE curve of every configuration of a depth x width x learning-rate grid,
trained once for the full budget by ``benchmarks/make_grid.py``. Search methods run their
real algorithms (Optuna samplers and pruners via ``trial.report``/``should_prune``;
KerasTuner oracles via an overridden ``run_trial``) but every "training" is a table
look-up, and each epoch looked up is counted. A method has reached the goal when the best
result it would hand back (Optuna: ``study.best_value`` over COMPLETE trials; KerasTuner:
its best trial's score) is within 2% of the best value anywhere in the table.

Sampled values are snapped to the grid by equal-mass bins of the log range (so uniform
random sampling of the continuous space hits every grid value equally often).

    nice -n 10 python benchmarks/search_efficiency.py              # 20 seeds, every method
    nice -n 10 python benchmarks/search_efficiency.py --seeds 5 --methods stacksearch random
    nice -n 10 python benchmarks/search_efficiency.py --table benchmarks/data/mackey_glass_grid.json
    nice -n 10 python benchmarks/search_efficiency.py --table benchmarks/data/adding_short_grid.json --noisy

``--noisy`` (tables with several training seeds): each trial sees one training seed's curve,
drawn at random, instead of the cells' mean curve, so a search's best is a best of noisy draws
as in a real search; the target stays the best mean curve + 2%. Comparing the spread of the
epochs with and without it separates the sampler's luck from the training seeds'.
``--returned``: a method has reached the goal only when the configuration it would hand back
(its best trial's) is within 2% by its mean curve, however lucky the draw that put it first.

"<= random/3": seeds whose epochs were at most a third of random search's median (the goal).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import optuna  # noqa: E402

from stacksearch.config import StudyConfig  # noqa: E402
from stacksearch.search.depths import stratified_startup  # noqa: E402
from stacksearch.search.setup import make_pruner, make_sampler  # noqa: E402

TABLE = Path(__file__).parent / "data" / "adding_grid.json"
TOLERANCE = 0.02


class Table:
    """The tabulated curves, the target, and snapping of sampled values to grid points."""

    def __init__(self, path: Path) -> None:
        raw = json.loads(path.read_text())
        self.raw = raw
        self.epochs = raw["epochs"]
        self.grid = raw["grid"]
        runs: dict[tuple, list] = {}
        for c in raw["configs"]:
            runs.setdefault((c["depth"], c["units"], c["learning_rate"]), []).append(c["val_mse"])
        # several training seeds: the replay sees their mean curve, or one of them (noisy)
        self.runs = {k: np.array(v) for k, v in runs.items()}
        self.curves = {k: np.mean(v, axis=0) for k, v in self.runs.items()}
        self.noise: np.random.Generator | None = None
        self.returned = False  # judge the returned configuration's mean curve, not the value it scored
        self.best = min(float(c.min()) for c in self.curves.values())
        self.target = self.best * (1 + TOLERANCE)
        self.hits = sorted(k for k, c in self.curves.items() if c.min() <= self.target)

    @staticmethod
    def _snap_log(value: float, values: list, lo: float, hi: float) -> float:
        position = (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return values[min(int(position * len(values)), len(values) - 1)]

    def cell(self, depth: int, units: float, lr: float) -> tuple:
        """The grid cell a sampled configuration falls in."""
        space = self.raw["space"]
        u = self._snap_log(units, self.grid["units"], space["units"][0], space["units"][1] + 1)
        r = self._snap_log(lr, self.grid["learning_rate"], *space["learning_rate"])
        return int(depth), u, r

    def curve(self, depth: int, units: float, lr: float) -> np.ndarray:
        key = self.cell(depth, units, lr)
        if self.noise is not None:
            seeds = self.runs[key]
            return seeds[self.noise.integers(len(seeds))]
        return self.curves[key]

    def reached(self, value: float, depth: int, units: float, lr: float) -> bool:
        """Whether a method whose best trial scored ``value`` at this configuration has reached the goal."""
        if self.returned:
            value = float(self.curves[self.cell(depth, units, lr)].min())
        return value <= self.target

    def draw_seeds(self, seed: int | None) -> None:
        """From now on each curve looked up is one training seed's, drawn by a generator seeded ``seed``
        (None: the mean curves again)."""
        self.noise = None if seed is None else np.random.default_rng(10_007 + seed)


def config(
    table: Table, seed: int, n_trials: int, sampler: str = "tpe", pruner: str = "hyperband", **space_keys: int
) -> StudyConfig:
    space = table.raw["space"]
    return StudyConfig.model_validate(
        {
            "benchmark": {"name": "adding"},
            "study": {"seed": seed, "n_trials": n_trials, "sampler": sampler, "pruner": pruner},
            "space": {
                "depth": space["depth"],
                "units": space["units"],
                "learning_rate": space["learning_rate"],
                **space_keys,
            },
            "training": {"epochs": table.epochs},
        }
    )


def tpe_variant(sampler: optuna.samplers.TPESampler, **changes) -> optuna.samplers.TPESampler:
    """``sampler`` (stacksearch's default TPE) rebuilt with some constructor arguments changed."""
    kept = {
        "seed": sampler._rng.rng.randint(2**31),
        "multivariate": sampler._multivariate,
        "group": sampler._group,
        "constant_liar": sampler._constant_liar,
        "n_startup_trials": sampler._n_startup_trials,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(**(kept | changes))


def run_optuna(
    table: Table,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    space,
    patience: int | None,
    cap: int,
    name: str = "replay",
    stratified: bool = False,
) -> tuple[int | None, int]:
    """Epochs until study.best_value is within tolerance (None: not within ``cap``), trials.

    ``stratified``: start with one trial per depth (``stacksearch run``'s start-up, stacksearch.search.depths).
    """
    # a fixed study name: HyperbandPruner assigns brackets by hashing it with the trial number
    study = optuna.create_study(study_name=name, direction="minimize", sampler=sampler, pruner=pruner)
    if stratified:
        stratified_startup(study, space.depth)
    used = [0]

    def objective(trial: optuna.Trial) -> float:
        spec = space.sample(trial, 2, 1)
        curve = table.curve(spec.depth, spec.widths[0], spec.learning_rate)
        best, waited = math.inf, 0
        for epoch in range(table.epochs):  # the same order of checks as stacksearch.train
            used[0] += 1
            value = float(curve[epoch])
            if value < best:
                best, waited = value, 0
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best

    while used[0] < cap:
        study.optimize(objective, n_trials=1)
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if done and table.reached(study.best_value, *_configuration(study.best_trial.params)):
            return used[0], len(study.trials)
    return None, len(study.trials)


def _configuration(params: dict) -> tuple[int, float, float]:
    return params["depth"], params.get("units", params.get("units_0")), params["learning_rate"]


def run_kerastuner(table: Table, kind: str, seed: int, cap: int) -> tuple[int | None, int]:
    """KerasTuner's RandomSearch or Hyperband oracle over the same space, replayed."""
    import keras_tuner as kt

    space = table.raw["space"]
    hp = kt.HyperParameters()
    hp.Int("depth", *space["depth"])
    hp.Int("units", *space["units"], sampling="log")
    hp.Float("learning_rate", *space["learning_rate"], sampling="log")
    state: dict = {"used": 0, "best": math.inf, "best_at": None, "reached": None, "trials": 0}

    class Replay:
        def run_trial(self, trial, *args, **kwargs):
            values = trial.hyperparameters.values
            curve = table.curve(values["depth"], values["units"], values["learning_rate"])
            start = values.get("tuner/initial_epoch", 0)
            stop = values.get("tuner/epochs", table.epochs)
            state["used"] += stop - start
            state["trials"] += 1
            score = float(curve[start:stop].min())  # KerasTuner scores the best epoch of this fit
            if score < state["best"]:
                state["best"], state["best_at"] = score, (values["depth"], values["units"], values["learning_rate"])
            if state["reached"] is None and table.reached(state["best"], *state["best_at"]):
                state["reached"] = state["used"]
            if state["reached"] is not None or state["used"] >= cap:
                self.oracle.max_trials = 0  # stop the search after this trial
                raise_stop[0] = True
            return {"val_mse": score}

    raise_stop = [False]
    base = kt.RandomSearch if kind == "random" else kt.Hyperband
    Tuner = type(f"Replay{base.__name__}", (Replay, base), {})
    kwargs = (
        dict(max_trials=10**6)
        if kind == "random"
        else dict(max_epochs=table.epochs, factor=3, hyperband_iterations=10**6)
    )
    with tempfile.TemporaryDirectory() as tmp:
        tuner = Tuner(
            hypermodel=lambda h: None,
            hyperparameters=hp,
            objective=kt.Objective("val_mse", "min"),
            seed=seed * 100_003 or 1,  # KerasTuner draws a random seed for 0
            directory=tmp,
            project_name="replay",
            overwrite=True,
            **kwargs,
        )
        tuner.on_search_begin = lambda: None

        # stop as soon as the goal is reached (or the cap): the oracle stops when asked for more
        original = tuner.oracle.create_trial

        def create_trial(tuner_id):
            trial = original(tuner_id)
            if raise_stop[0]:
                trial.status = "STOPPED"
            return trial

        tuner.oracle.create_trial = create_trial
        tuner.search(verbose=0)
    return state["reached"], state["trials"]


def methods(table: Table, n_trials: int, cap: int) -> dict[str, Callable[[int], tuple[int | None, int]]]:
    def ss(
        sampler: str = "tpe",
        pruner: str = "hyperband",
        patience: int | None = 3,
        stratified: bool = False,
        tpe: dict | None = None,
        **space_keys: int,
    ):
        def run(seed: int):
            cfg = config(table, seed, n_trials, sampler, pruner, **space_keys)
            space = cfg.space.to_space()
            sampler_, pruner_ = make_sampler(cfg, space), make_pruner(cfg)
            if tpe:  # the default TPE with some of its arguments changed
                sampler_ = tpe_variant(sampler_, **tpe)
            return run_optuna(
                table, sampler_, pruner_, space, patience, cap, name=f"replay-{seed}", stratified=stratified
            )

        return run

    return {
        # the defaults: one trial per depth first, then TPE (make_sampler) + Hyperband (make_pruner) + patience 3
        "stacksearch": ss(stratified=True),
        "stacksearch-prev": ss(),  # the defaults before the stratified start-up
        "stacksearch-step8": ss(stratified=True, units_step=8),  # widths 8, 16, ... 64 (evenly, so they repeat)
        "random": ss("random", "none", None),  # plain random search, full budget per trial
        "grid": ss("grid", "none", None),  # every grid point once, shuffled by the seed
        "kt-random": lambda seed: run_kerastuner(table, "random", seed, cap),
        "kt-hyperband": lambda seed: run_kerastuner(table, "hyperband", seed, cap),
        # ablations: which part of the defaults matters
        "tpe-noprune": ss("tpe", "none", 3),
        "tpe-hb-nopatience": ss("tpe", "hyperband", None),
        "random-hb": ss("random", "hyperband", 3),
        "stacksearch-noprune": ss(pruner="none", stratified=True),  # the defaults without Hyperband
        "stacksearch-nopatience": ss(patience=None, stratified=True),  # ... without early stopping
        "stacksearch-endpoints": ss(stratified=True, tpe={"consider_endpoints": True}),
        "stacksearch-startup8": ss(stratified=True, tpe={"n_startup_trials": 8}),
        "tpe-median": ss("tpe", "median", 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n-trials", type=int, default=50, help="the study's n_trials (sets TPE's start-up trials)")
    parser.add_argument("--cap", type=int, default=3000, help="give up after this many epochs")
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    parser.add_argument("--noisy", action="store_true", help="each trial sees one training seed's curve")
    parser.add_argument("--returned", action="store_true", help="judge the returned configuration's mean curve")
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("keras_tuner").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    table = Table(args.table)
    table.returned = args.returned
    runners = methods(table, args.n_trials, args.cap)
    chosen = args.methods or list(runners)
    print(
        f"table: {args.table.name}, {len(table.curves)} configs x {table.epochs} epochs; best val_mse "
        f"{table.best:.5f}, target <= {table.target:.5f} reached by {len(table.hits)} config(s): {table.hits}"
    )
    print(f"one full training = {table.epochs} epochs; exhaustive grid = {len(table.curves) * table.epochs} epochs")
    print(
        f"{'method':<18} {'median epochs':>13} {'IQR':>13} {'reached':>8} {'median trials':>13} "
        f"{'vs random':>9} {'<= random/3':>11}"
    )
    results = {}
    for name in chosen:
        runs = []
        for seed in range(args.seeds):
            table.draw_seeds(seed if args.noisy else None)
            runs.append(runners[name](seed))
        # a run that never reached counts as the cap (censored), so medians stay conservative
        epochs = [e if e is not None else args.cap for e, _ in runs]
        results[name] = {
            "epochs": epochs,
            "trials": [t for _, t in runs],
            "reached": sum(e is not None for e, _ in runs),
        }
    ref = statistics.median(results["random"]["epochs"]) if "random" in results else None
    for name, r in results.items():
        med = statistics.median(r["epochs"])
        q1, _, q3 = statistics.quantiles(r["epochs"], n=4) if len(r["epochs"]) > 1 else (med, med, med)
        ratio = f"{ref / med:.2f}x" if ref else "-"
        third = f"{sum(e <= ref / 3 for e in r['epochs'])}/{args.seeds}" if ref else "-"
        print(
            f"{name:<18} {med:>13.0f} {f'{q1:.0f}-{q3:.0f}':>13} {r['reached']:>5}/{args.seeds:<3} "
            f"{statistics.median(r['trials']):>12.0f} {ratio:>9} {third:>11}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"target": table.target, "best": table.best, "noisy": args.noisy, "returned": args.returned}
                | {"results": results},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
