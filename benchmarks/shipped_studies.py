"""Run shipped study files as a user would and record the call each reached and its wall time.

Each study runs with its own budget (``study.budget``) in a fresh folder, MLflow tracking off,
the report on; the row is what ``reports/<study>/verdict.json`` says. ``--parallel 2`` runs two
studies at once (each then has about one of two cores: fewer trials within the same budget).

    python benchmarks/shipped_studies.py --out shipped.json   # docs/benchmarks.md (every 10-minute study)
    python benchmarks/shipped_studies.py gunpoint sunspots    # just these
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from known_answer import run_study

STUDIES = Path(__file__).resolve().parents[1] / "studies"
LONG = ("adding-deep", "adding-residual")  # hours on 2 cores: only when named


def run_shipped(name: str) -> dict:
    """One shipped study, in a temporary folder."""
    path = STUDIES / f"{name}.yaml"
    study = yaml.safe_load(path.read_text())["study"]
    with tempfile.TemporaryDirectory(prefix=f"shipped-{name}-") as folder:
        return {"study": name, "budget": study.get("budget"), **run_study(path, study["name"], Path(folder))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="study file names without .yaml (default: all but the long ones)")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    names = args.names or sorted(p.stem for p in STUDIES.glob("*.yaml") if p.stem not in LONG)
    rows = []
    with ThreadPoolExecutor(args.parallel) as pool:
        for row in pool.map(run_shipped, names):
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
