"""How often the verdict comes out each way on tasks whose answer is known by construction.

Runs ``stacksearch run`` (search, then the built-in confirmation, inside a budget) on the two
known-answer benchmarks (``stacksearch/benchmarks/known.py``), once per seed (the data, sampler
and training seeds all change), each in a fresh folder, and reads each run's
``reports/<study>/verdict.json``:

- ``null_depth``: depth cannot matter; a ``depth_wins`` there is a false call. Its rate over the
  seeds must stay at or below the verdict's alpha (0.05); the script prints the rate with its
  exact (Clopper-Pearson) 95% upper bound, since 10 runs cannot show a rate below 0.05 on their own.
- ``deep_hierarchy`` (depths 1-2): depth 2 beats depth 1 by far more than the margin; an
  ``equivalent`` there is a false call, and ``depth_wins`` with winner 2 is the right one.

    python benchmarks/known_answer.py --seeds 10 --out known_answer.json   # docs/report.md
    python benchmarks/known_answer.py --tasks null_depth --seeds 2 --budget-null 60s   # a quick look

MLflow tracking is off (``--no-tracking``): the calls do not depend on it, and it costs time.
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
from collections import Counter
from pathlib import Path

import yaml
from scipy.stats import beta

TASKS: dict[str, dict] = {
    "null_depth": {
        "benchmark": {"name": "null_depth", "args": {"length": 10, "n_train": 1000, "n_val": 250, "n_test": 250}},
        "space": {"depth": [1, 3], "units": [8, 32], "learning_rate": [0.003, 0.03]},
        "training": {"epochs": 8, "batch_size": 64, "patience": 3},
        "false_call": "depth_wins",
    },
    "deep_hierarchy": {
        "benchmark": {"name": "deep_hierarchy", "args": {"length": 10, "n_train": 1000, "n_val": 250, "n_test": 250}},
        "space": {"depth": [1, 2], "units": [8, 48], "learning_rate": [0.003, 0.03]},
        "training": {"epochs": 12, "batch_size": 64, "patience": 4},
        "false_call": "equivalent",
    },
}


def study_file(task: str, seed: int, budget: str) -> dict:
    """The study file of one run: the task's benchmark with the data seed ``seed``, confirmation on."""
    spec = TASKS[task]
    benchmark = {"name": spec["benchmark"]["name"], "args": {**spec["benchmark"]["args"], "seed": seed}}
    return {
        "study": {"name": f"{task}-{seed}", "budget": budget, "seed": seed},
        "benchmark": benchmark,
        "space": spec["space"],
        "training": spec["training"],
        "confirm": {"top": 3, "seeds": 3},
    }


def run_one(task: str, seed: int, budget: str, folder: Path) -> dict:
    """One ``stacksearch run`` of ``task`` in ``folder``; its call, winner, wall seconds and exit code."""
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study_file(task, seed, budget)))
    return {"task": task, "seed": seed, **run_study(path, f"{task}-{seed}", folder)}


def run_study(path: Path, name: str, folder: Path, *flags: str) -> dict:
    """``stacksearch run path --no-tracking *flags`` in ``folder``: its ``verdict.json`` in brief, and the wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("stacksearch")), "run", str(path), "--no-tracking", *flags],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    row = {"exit": done.returncode, "wall_s": round(time.perf_counter() - started, 1)}
    verdict_path = folder / "reports" / name / "verdict.json"
    if not verdict_path.exists():
        return {**row, "call": "no verdict", "winner": None, "error": done.stderr.strip().splitlines()[-1:]}
    verdict = json.loads(verdict_path.read_text())
    return {
        **row,
        "call": verdict["call"],
        "winner": verdict["winner"],
        "seeds": {str(d["depth"]): d["seeds"] for d in verdict.get("depths", [])},
        "reason": verdict["reason"],
        "next_step": verdict.get("next_step"),
        "margin": verdict.get("margin"),
        "width_call": (verdict.get("width_call") or {}).get("call"),
        "budget": verdict.get("budget"),
    }


def upper_bound(failures: int, runs: int, level: float = 0.95) -> float:
    """The exact one-sided upper confidence bound on a rate seen ``failures`` times in ``runs``."""
    return 1.0 if failures >= runs else float(beta.ppf(level, failures + 1, runs - failures))


def summarize(rows: list[dict]) -> dict:
    """Per task: how often each call came out, the false-call rate and its bound, the median wall time."""
    out = {}
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        false = sum(r["call"] == TASKS[task]["false_call"] for r in mine)
        out[task] = {
            "runs": len(mine),
            "calls": dict(Counter(r["call"] for r in mine)),
            "winners": dict(Counter(str(r["winner"]) for r in mine if r["call"] == "depth_wins")),
            "false_call": TASKS[task]["false_call"],
            "false_calls": false,
            "false_call_rate": false / len(mine),
            "false_call_upper_95": round(upper_bound(false, len(mine)), 3),
            "median_wall_s": statistics.median(r["wall_s"] for r in mine),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=10, help="runs per task (seeds 0 .. N-1)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget-null", default="2m")
    parser.add_argument("--budget-deep", default="3m30s")
    parser.add_argument("--out", type=Path, help="also write every row and the summary as JSON here")
    args = parser.parse_args()
    budgets = {"null_depth": args.budget_null, "deep_hierarchy": args.budget_deep}
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for task in args.tasks:
            with tempfile.TemporaryDirectory(prefix=f"known-{task}-") as folder:
                row = run_one(task, seed, budgets[task], Path(folder))
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                args.out.write_text(
                    json.dumps({"budgets": budgets, "rows": rows, "summary": summarize(rows)}, indent=1)
                )
    print(json.dumps(summarize(rows), indent=1))


if __name__ == "__main__":
    main()
