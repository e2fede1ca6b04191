"""The limit ratio of whole studies, per backend: wall time against the steady epochs trained.

Runs each study file as ``stacksearch run`` would (search, then the built-in confirmation), with
its budget replaced by ``--n-trials`` finished search trials so every backend does the same work,
MLflow tracking and the report off, in a fresh folder, and reads the ``limit`` user attribute the
run stores (:mod:`stacksearch.search.limit`): the run's wall seconds, the summed steady epochs
of its trials and retrainings (each trial's epochs after the first, :mod:`stacksearch.steady`),
and their ratio. Rounds alternate the backends, so a slow spell of a shared machine falls on
both; the table gives medians over the rounds.

    python benchmarks/limit_ratio.py --rounds 3 --out limit_ratio.json   # docs/performance.md
    python benchmarks/limit_ratio.py --studies quickstart --backends tensorflow --rounds 1
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

import optuna
import yaml

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def run_one(name: str, backend: str, n_trials: int, folder: Path, training: dict | None = None) -> dict:
    """One run of ``studies/<name>.yaml`` on ``backend`` (``training`` keys replaced): its limit record, trials."""
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
    done = subprocess.run(
        [str(Path(sys.executable).with_name("stacksearch")), "run", str(path), "--backend", backend],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        return {"study": name, "backend": backend, "exit": done.returncode, "error": done.stderr[-400:]}
    study = optuna.load_study(study_name=config["study"]["name"], storage=f"sqlite:///{folder / 'stacksearch.db'}")
    limit = study.user_attrs["limit"]
    complete = [t for t in study.trials if t.value is not None]
    return {
        "study": name,
        "backend": backend,
        "exit": 0,
        "trials": len(study.trials),
        "best": min(t.value for t in complete) if complete else None,
        "reused": sum(bool(t.user_attrs.get("reused_model")) for t in study.trials + _retrainings(study)),
        **limit,
    }


def _retrainings(study: optuna.Study) -> list:
    try:
        return optuna.load_study(study_name=f"{study.study_name}.confirm", storage=study._storage).trials
    except KeyError:
        return []


def summarize(rows: list[dict]) -> list[dict]:
    """Median wall, steady seconds and ratio per (study, backend)."""
    out = []
    for key in sorted({(r["study"], r["backend"]) for r in rows if r["exit"] == 0}):
        mine = [r for r in rows if (r["study"], r["backend"]) == key and r["exit"] == 0]
        out.append(
            {
                "study": key[0],
                "backend": key[1],
                "rounds": len(mine),
                "wall_s": statistics.median(r["wall_seconds"] for r in mine),
                "steady_s": statistics.median(r["steady_seconds"] for r in mine),
                "ratio": statistics.median(r["ratio"] for r in mine),
                "ratios": [r["ratio"] for r in mine],
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
    args = parser.parse_args()
    rows = []
    for _ in range(args.rounds):
        for name in args.studies:
            for backend in args.backends:
                with tempfile.TemporaryDirectory(prefix=f"limit-{name}-") as folder:
                    row = run_one(name, backend, args.n_trials, Path(folder))
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    args.out.write_text(json.dumps({"rows": rows, "summary": summarize(rows)}, indent=1))
    print(json.dumps(summarize(rows), indent=1))


if __name__ == "__main__":
    main()
