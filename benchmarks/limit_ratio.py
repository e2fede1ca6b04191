"""The limit ratio of whole studies, per backend: wall time against the steady epochs trained.

Runs each study file as ``stacksearch run`` would (search, then the built-in confirmation), with
its budget replaced by ``--n-trials`` finished search trials so every backend does the same work,
MLflow tracking and the report off, in a fresh folder, and reads the ``limit`` user attribute the
run stores (:mod:`stacksearch.search.limit`): the run's wall seconds, the summed steady epochs
of its trials and retrainings (each trial's epochs after the first, :mod:`stacksearch.steady`),
and their ratio. Rounds alternate the backends, so a slow spell of a shared machine falls on
both; the table gives medians over the rounds.

Each row also splits the process's wall time (measured outside it, imports included) into where
it went (:func:`breakdown`): ``steady`` epochs, ``epochs_beyond_steady`` (the epochs' time beyond
that, nearly all of it first epochs tracing or compiling the train and test steps), ``in_trial`` (a trial's
time outside its epochs: building the model, the test score, storing its attributes), and
``outside`` (everything between trials: imports, data, the sampler, storage, the confirmation's
planning).

    python benchmarks/limit_ratio.py --rounds 3 --out limit_ratio.json   # docs/performance.md
    python benchmarks/limit_ratio.py --studies quickstart --backends tensorflow --rounds 1
    git worktree add /tmp/before 92b0d52   # the code before issue 15's reductions, side by side:
    python benchmarks/limit_ratio.py --studies quickstart --backends tensorflow --baseline-code /tmp/before
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import yaml

from stacksearch.search.limit import trial_timing
from stacksearch.steady import steady_total

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def run_one(
    name: str, backend: str, n_trials: int, folder: Path, training: dict | None = None, code: Path | None = None
) -> dict:
    """One run of ``studies/<name>.yaml`` on ``backend`` (``training`` keys replaced): its limit record, trials.

    ``code``: run the stacksearch package in that source tree instead (first on PYTHONPATH), for example
    an older commit checked out with ``git worktree add``; its runs may store no limit record.
    """
    config = yaml.safe_load((STUDIES / f"{name}.yaml").read_text())
    config["training"] = {**config.get("training", {}), **(training or {})}
    config["study"].pop("budget", None)
    config["study"]["timeout"] = None
    config["study"]["n_trials"] = n_trials
    config["tracking"] = False
    config["report"] = False
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": backend}
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("stacksearch")), "run", str(path), "--backend", backend],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
    )
    process_seconds = time.perf_counter() - started
    label = {"study": name, "backend": backend, "code": str(code or "current")}
    if done.returncode != 0:
        return {**label, "exit": done.returncode, "error": done.stderr[-400:]}
    study = optuna.load_study(study_name=config["study"]["name"], storage=f"sqlite:///{folder / 'stacksearch.db'}")
    limit = study.user_attrs.get("limit", {})
    complete = [t for t in study.trials if t.value is not None]
    everything = study.trials + _retrainings(study)
    return {
        **label,
        "exit": 0,
        "trials": len(study.trials),
        "best": study.best_value if complete else None,
        "reused": sum(bool(t.user_attrs.get("reused_model")) for t in everything),
        **limit,
        "process_seconds": round(process_seconds, 1),
        "breakdown": breakdown(everything, process_seconds),
    }


def breakdown(trials: list, process_seconds: float) -> dict[str, float]:
    """Where a run's wall seconds went: steady epochs, the rest of its epochs, in-trial and outside-trial time."""
    ended = [t for t in trials if t.datetime_start and t.datetime_complete]
    timings = [trial_timing(t) for t in ended]
    steady = steady_total(timings)
    epochs = sum(sum(seconds) for _, seconds, _ in timings)
    in_trials = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in ended)
    return {
        "steady": round(steady, 1),
        "epochs_beyond_steady": round(epochs - steady, 1),
        "in_trial": round(in_trials - epochs, 1),
        "outside": round(process_seconds - in_trials, 1),
        "trials": len(ended),
        "epochs": sum(epochs for epochs, _, _ in timings),
    }


def _retrainings(study: optuna.Study) -> list:
    try:
        return optuna.load_study(study_name=f"{study.study_name}.confirm", storage=study._storage).trials
    except KeyError:
        return []


def summarize(rows: list[dict]) -> list[dict]:
    """Median process seconds, wall, steady seconds and ratio per (study, backend, code)."""

    def median(values: list) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    out = []
    for key in sorted({(r["study"], r["backend"], r.get("code", "current")) for r in rows if r["exit"] == 0}):
        mine = [r for r in rows if (r["study"], r["backend"], r.get("code", "current")) == key and r["exit"] == 0]
        out.append(
            {
                "study": key[0],
                "backend": key[1],
                "code": key[2],
                "rounds": len(mine),
                "process_s": median([r.get("process_seconds") for r in mine]),
                "wall_s": median([r.get("wall_seconds") for r in mine]),
                "steady_s": median([r.get("steady_seconds") for r in mine]),
                "ratio": median([r.get("ratio") for r in mine]),
                "ratios": [r.get("ratio") for r in mine],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+", default=["quickstart", "italy_power_demand"])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--n-trials", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--baseline-code",
        type=Path,
        help="also run, each round, the stacksearch source tree here (e.g. git worktree add /tmp/old 92b0d52)",
    )
    args = parser.parse_args()
    codes = [None, args.baseline_code] if args.baseline_code else [None]
    rows = []
    for _ in range(args.rounds):
        for name in args.studies:
            for backend, code in itertools.product(args.backends, codes):
                with tempfile.TemporaryDirectory(prefix=f"limit-{name}-") as folder:
                    row = run_one(name, backend, args.n_trials, Path(folder), code=code)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    args.out.write_text(json.dumps({"rows": rows, "summary": summarize(rows)}, indent=1))
    print(json.dumps(summarize(rows), indent=1))


if __name__ == "__main__":
    main()
