"""One budgeted ``stacksearch run``: search, then confirmation, and a second run that retrains nothing."""

import math

import optuna
import pytest
from optuna.trial import TrialState

from stacksearch.cli import main
from tests.support.studies import write_study

pytestmark = pytest.mark.integration

STUDY = """
study: {name: phased, seed: 2, budget: 45s}
benchmark: {name: adding, args: {length: 6, n_train: 96, n_val: 32, n_test: 32}}
space: {depth: [1, 2], units: [4, 8], learning_rate: [0.003, 0.03]}
training: {epochs: 2, batch_size: 32}
confirm: {top: 2, seeds: 2}
tracking: false
report: false
"""


def _counts(name: str) -> dict[TrialState, int]:
    trials = optuna.load_study(study_name=name, storage="sqlite:///stacksearch.db").trials
    return {state: sum(t.state == state for t in trials) for state in TrialState}


def test_a_budgeted_run_searches_then_confirms_and_a_second_run_retrains_nothing(workdir, capsys):
    path = write_study(workdir / "phased.yaml", STUDY)
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "plan: search until about" in out and "then confirm 2 depths x 2 seeds" in out
    assert "confirmation: 2 depths x 2 seeds retrained (phased.confirm)" in out
    assert "of which steady epochs" in out and "x the limit" in out
    study = optuna.load_study(study_name="phased", storage="sqlite:///stacksearch.db")
    assert {t.params["depth"] for t in study.trials if t.state == TrialState.COMPLETE} == {1, 2}  # a share each
    assert study.user_attrs["search_phase"]["over"] and study.user_attrs["search_phase"]["reason"] == "budget"
    confirmation = study.user_attrs["confirmation"]
    assert confirmation["seeds"] == 2 and sorted(r["depth"] for r in confirmation["results"]) == [1, 2]
    assert all(len(r["values"]) == 2 and all(math.isfinite(v) for v in r["values"]) for r in confirmation["results"])
    confirm = optuna.load_study(study_name="phased.confirm", storage="sqlite:///stacksearch.db")
    seeds = sorted((t.user_attrs["source_trial"], t.user_attrs["seed"]) for t in confirm.trials)
    assert seeds == sorted((r["trial"], s) for r in confirmation["results"] for s in (10000, 10001))
    before = (_counts("phased"), _counts("phased.confirm"))
    assert main(["run", str(path)]) == 0
    again = capsys.readouterr().out
    assert (
        "the search ended under budget 45s in an earlier run; confirm 2 depths" in again
        and "retrained (phased.confirm)" in again
    )
    assert (_counts("phased"), _counts("phased.confirm")) == before
