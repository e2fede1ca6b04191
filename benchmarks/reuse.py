"""Kept compiled models: the same study with ``training.reuse_models`` on and off, side by side.

Runs ``stacksearch run`` on a study file (default the quickstart, its budget replaced by
``--n-trials`` search trials, then its confirmation: 3 depths x 3 seeds, where every depth's
second and third seed repeat an architecture) on TensorFlow (or ``--backend jax``), with reuse on and off in
alternating order each round, same seed. Reused models train bit-identically, so both runs make
the same trials and reach the same best value (the script checks); what differs is the wall time.

    python benchmarks/reuse.py --rounds 3     # docs/performance.md
    python benchmarks/reuse.py --rounds 2 --backend jax
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from limit_ratio import run_one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="quickstart")
    parser.add_argument("--n-trials", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "jax"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    for index in range(args.rounds):
        order = (True, False) if index % 2 == 0 else (False, True)
        for reuse in order:
            with tempfile.TemporaryDirectory(prefix="reuse-") as folder:
                row = run_one(args.study, args.backend, args.n_trials, Path(folder), {"reuse_models": reuse})
            rows.append({"round": index, "reuse": reuse, **row})
            print(json.dumps(rows[-1]), flush=True)
            if args.out:
                args.out.write_text(json.dumps(rows, indent=1))
    on = [r for r in rows if r["reuse"] and r["exit"] == 0]
    off = [r for r in rows if not r["reuse"] and r["exit"] == 0]
    ratios = [b["wall_seconds"] / a["wall_seconds"] for a, b in zip(on, off, strict=False)]
    print(
        json.dumps(
            {
                "wall_on_s": statistics.median(r["wall_seconds"] for r in on),
                "wall_off_s": statistics.median(r["wall_seconds"] for r in off),
                "off_over_on": statistics.median(ratios),
                "ratios": [round(x, 3) for x in ratios],
                "limit_ratio_on": statistics.median(r["ratio"] for r in on),
                "limit_ratio_off": statistics.median(r["ratio"] for r in off),
                "reused_on": [r["reused"] for r in on],
                "same_best": all(a["best"] == b["best"] for a, b in zip(on, off, strict=False)),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
