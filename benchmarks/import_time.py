"""Seconds to ``import stacksearch`` in a fresh interpreter, for this tree and optionally another.

Runs alternate between the trees so machine noise hits both; prints medians.

    git worktree add /tmp/before 3404143
    python benchmarks/import_time.py --other /tmp/before --repeats 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

CODE = "import time; t = time.perf_counter(); import stacksearch; print(time.perf_counter() - t)"


def import_seconds(tree: Path) -> float:
    """One fresh interpreter's time to import stacksearch from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, cwd="/", check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, help="another checkout to compare with (e.g. the code before a change)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    trees = {"this tree": Path(__file__).resolve().parents[1]}
    if args.other:
        trees[f"other ({args.other})"] = args.other.resolve()
    times: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            times[name].append(import_seconds(tree))
    print("| tree | median ms | min ms | max ms |\n|---|---|---|---|")
    for name, values in times.items():
        median, low, high = (1000 * f(values) for f in (statistics.median, min, max))
        print(f"| {name} | {median:.0f} | {low:.0f} | {high:.0f} |")


if __name__ == "__main__":
    main()
