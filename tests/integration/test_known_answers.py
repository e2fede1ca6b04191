"""The verdict on tasks whose answer is known by construction (stacksearch/benchmarks/known.py).

One small budgeted ``stacksearch run`` each: where depth cannot matter the run never ends
``depth_wins``; where depth 2 beats depth 1 by far more than the margin it never ends
``equivalent``. Epoch budgets keep the runs the same size on a busy machine. How often each call
comes out over 10 seeds at larger sizes is measured by benchmarks/known_answer.py (docs/report.md).
"""

import json

import pytest

from stacksearch.cli import main
from tests.support.studies import write_study

pytestmark = pytest.mark.integration

NULL = """
study: {name: null, seed: 3, budget: 60 epochs}
benchmark: {name: null_depth, args: {length: 5, n_train: 400, n_val: 200, n_test: 50, seed: 3}}
space: {depth: [1, 2], units: [8, 16], learning_rate: [0.005, 0.03]}
training: {epochs: 6, batch_size: 64}
confirm: {top: 2, seeds: 3}
tracking: false
"""

DEEP = """
study: {name: deep, seed: 3, budget: 80 epochs}
benchmark: {name: deep_hierarchy, args: {length: 6, n_train: 1000, n_val: 200, n_test: 50, seed: 3}}
space: {depth: [1, 2], units: [16, 32], learning_rate: [0.01, 0.03]}
training: {epochs: 8, batch_size: 32}
confirm: {top: 2, seeds: 3}
tracking: false
"""


def _verdict(workdir, name: str, text: str) -> dict:
    assert main(["run", str(write_study(workdir / f"{name}.yaml", text))]) == 0
    return json.loads((workdir / "reports" / name / "verdict.json").read_text())


def test_where_depth_cannot_matter_the_run_never_names_a_winner(workdir):
    verdict = _verdict(workdir, "null", NULL)
    assert verdict["call"] in ("equivalent", "inconclusive") and verdict["winner"] is None, verdict["reason"]
    assert verdict["compared_depths"] == [1, 2] and all(d["seeds"] == 3 for d in verdict["depths"])


def test_where_depth_helps_the_run_never_calls_the_depths_equivalent(workdir):
    verdict = _verdict(workdir, "deep", DEEP)
    assert verdict["call"] in ("depth_wins", "inconclusive") and verdict["winner"] in (2, None), verdict["reason"]
    means = {d["depth"]: d["mean"] for d in verdict["depths"]}
    assert means[2] < means[1], means  # cross-entropy: depth 2 is the better one
