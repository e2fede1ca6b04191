"""Time the depth-versus-width report on a large synthetic study (no training).

Builds a study of N trials (default 10,000) with ``optuna.trial.create_trial``: depths 1-4,
shared widths 8-256, learning rates 1e-4-1e-2, 20-epoch learning curves, about 20% pruned,
3% rejected over max_params and 2% failed. Times the import of ``stacksearch.report`` and
:func:`stacksearch.write_report` on the study in memory. With ``--sqlite`` it also stores
the study in that SQLite file, unless it exists already (slow: Optuna writes each trial
row by row, 6 CPU minutes for 10,000 trials; keep the file to time again), and times the
two halves of ``stacksearch report`` (:func:`stacksearch.report.report_for`): loading the
study (trials read straight from Optuna's tables by :mod:`stacksearch.report.fast_load`),
then writing the report; ``--optuna`` also times loading through Optuna's own
``study.get_trials()``, the path it replaced. Prints wall-clock and CPU seconds: on a busy
shared machine the CPU seconds are the better estimate of the wall-clock time on an idle one.

    python benchmarks/report_speed.py [--trials 10000] [--sqlite FILE] [--optuna] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from stacksearch.space import ArchSpec

EPOCHS = 20
BASELINE = 1 / 6
DISTRIBUTIONS = {
    "depth": IntDistribution(1, 4),
    "units": IntDistribution(8, 256, log=True),
    "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
}


def synthetic_trial(rng: np.random.Generator) -> FrozenTrial:
    """One trial of an adding-problem-like search: deeper and better-tuned trials score lower."""
    depth = int(rng.integers(1, 5))
    units = int(round(math.exp(rng.uniform(math.log(8), math.log(256)))))
    lr = float(math.exp(rng.uniform(math.log(1e-4), math.log(1e-2))))
    n_params = ArchSpec((units,) * depth).n_params(2, 1)
    params = {"depth": depth, "units": units, "learning_rate": lr}
    attrs = {"depth": depth, "widths": [units] * depth, "n_params": n_params, "seed": 0, "backend": "jax"}
    if n_params > 1_500_000:
        attrs["reject_reason"] = f"{n_params} parameters exceed max_params=1500000"
        return optuna.trial.create_trial(
            state=TrialState.PRUNED, params=params, distributions=DISTRIBUTIONS, user_attrs=attrs
        )
    final = BASELINE * (0.05 + 0.3 * abs(math.log10(lr) + 2.5) + 0.4 / depth + 4 / units) * math.exp(rng.normal(0, 0.2))
    curve = [final + (BASELINE - final) * math.exp(-epoch / 4) for epoch in range(EPOCHS)]
    state = TrialState.COMPLETE
    roll = rng.random()
    if roll < 0.2:
        state, curve = TrialState.PRUNED, curve[: int(rng.integers(1, EPOCHS))]
    elif roll < 0.22:
        state, curve = TrialState.FAIL, curve[:3]
        attrs["fail_reason"] = "non-finite loss at epoch 3"
    seconds = 1e-5 * n_params**0.8 * depth * len(curve) + 2.0
    attrs.update(
        epochs_trained=len(curve),
        best_epoch=len(curve) - 1,
        train_seconds=seconds,
        history={"loss": curve, "val_loss": curve, "val_mse": curve},
    )
    if state == TrialState.COMPLETE:
        attrs["test_mse"] = curve[-1] * 1.05
    return optuna.trial.create_trial(
        state=state,
        value=curve[-1] if state == TrialState.COMPLETE else None,
        params=params,
        distributions=DISTRIBUTIONS,
        user_attrs=attrs,
        intermediate_values=dict(enumerate(curve)),
    )


def build_study(storage: str | None, name: str, n_trials: int, seed: int = 0) -> optuna.Study:
    """A study of ``n_trials`` synthetic trials with stacksearch's study attributes."""
    rng = np.random.default_rng(seed)
    study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
    for key, value in {
        "metric": "mse",
        "direction": "minimize",
        "baseline": BASELINE,
        "reference": None,
        "benchmark": {"name": "adding", "args": {"length": 50}, "metric": "mse"},
    }.items():
        study.set_user_attr(key, value)
    study.add_trials([synthetic_trial(rng) for _ in range(n_trials)])
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--sqlite", metavar="FILE", help="also time loading from this SQLite file (built if absent)")
    parser.add_argument("--optuna", action="store_true", help="with --sqlite, also time Optuna's get_trials()")
    parser.add_argument("--keep", help="write the in-memory study's report here and keep it")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    rows = []

    def timed(step: str, action: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        rows.append((step, time.perf_counter() - wall, time.process_time() - cpu))
        return result

    report = timed("import stacksearch.report", lambda: importlib.import_module("stacksearch.report"))
    study = build_study(None, "speed", args.trials)
    folder = Path(tempfile.mkdtemp(prefix="report-speed-"))
    try:
        timed(
            f"write_report, {args.trials} trials in memory",
            lambda: report.write_report(study, args.keep or folder / "memory"),
        )
        if args.sqlite:
            url = f"sqlite:///{Path(args.sqlite).resolve()}"
            if not Path(args.sqlite).exists():
                timed(
                    "build the SQLite study (setup, not part of the report)",
                    lambda: build_study(url, "speed", args.trials),
                )

            def load() -> report.StudyData:  # as report_for does
                stored = report.open_study(url, "speed")
                return report.collect(stored, report.fast_load.read_trials(stored))

            if args.optuna:
                timed(
                    "load the study through Optuna's get_trials() (the old path)",
                    lambda: report.collect(report.open_study(url, "speed")),
                )
            data = timed("stacksearch report, part 1: load the study from SQLite (fast reader)", load)
            timed(
                "stacksearch report, part 2: write_report on the loaded study",
                lambda: report.write_report(data, folder / "sqlite"),
            )
    finally:
        shutil.rmtree(folder)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("| step | wall s | CPU s |")
    print("|---|---|---|")
    for step, wall, cpu in rows:
        print(f"| {step} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
