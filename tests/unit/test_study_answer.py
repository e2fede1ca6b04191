"""The study's answer on synthetic studies (no training): analyse's call, verdict.json, `report --json`, headline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest

from stacksearch.cli import main
from stacksearch.exceptions import ConfigError
from stacksearch.report import (
    NOT_CONFIRMED,
    analyse,
    answer_line,
    band_pairs,
    iso_param_table,
    study_answer,
    verdict_record,
)
from stacksearch.report.html import render_html
from stacksearch.report.markdown import render_markdown
from stacksearch.report.study_answer import NO_DEPTH
from tests.support.reports import study_of, trial

DESIGN_FIELDS = (
    "call",
    "winner",
    "compared_depths",
    "margin",
    "alpha",
    "depths",
    "tests",
    "reason",
    "next_step",
    "width_call",
    "budget",
)
CLEAR = {1: [0.50, 0.51, 0.52], 2: [0.40, 0.41, 0.42], 3: [0.30, 0.31, 0.32]}
EQUAL = {1: [0.300, 0.301, 0.302], 2: [0.301, 0.300, 0.302], 3: [0.302, 0.301, 0.300]}
NOISY = {1: [0.30, 0.36, 0.33], 2: [0.31, 0.37, 0.32], 3: [0.29, 0.35, 0.34]}
# baseline 1.0 and best search score 0.35 (depth 3's trial #10): the default margin is 5% of 0.65
MARGIN = 0.0325


def searched(depths: tuple[int, ...] = (1, 2, 3), **attrs) -> optuna.Study:  # type: ignore[no-untyped-def]
    """Five search trials per depth, no parameter band shared; depth d's best is its first, trial #5(d-1)."""
    trials = [
        trial(d, 16, 0.5 - 0.05 * d + 0.01 * i, n_params=600 * 4 ** (d - 1) + 10 * i) for d in depths for i in range(5)
    ]
    return study_of(*trials, metric="mse", baseline=1.0, **attrs)


def confirmation(values: dict[int, list], extra: dict[int, dict] | None = None) -> dict:  # type: ignore[type-arg]
    """The ``confirmation`` attribute for :func:`searched`: each depth's best trial retrained."""
    results = [
        {"depth": d, "widths": [16] * d, "trial": 5 * (d - 1), "values": v, **(extra or {}).get(d, {})}
        for d, v in values.items()
    ]
    return {"seeds": max(len(v) for v in values.values()), "results": results}


def test_a_clear_winner_is_called_depth_wins() -> None:
    result = analyse(searched(confirmation=confirmation(CLEAR))).answer
    answer = result.answer
    assert (answer.call, answer.winner, answer.compared_depths) == ("depth_wins", 3, (1, 2, 3))
    assert answer.margin == pytest.approx(MARGIN) and answer.alpha == 0.05 and answer.looks == 1
    assert result.margin.rule == "5% of the gap between the trivial baseline 1 and the best score 0.35"
    assert all(t.adjusted_p < 0.05 for t in answer.tests if t.name == "superiority")
    assert answer_line(result) == (
        "Depth 3 wins: it beats depths 1, 2 by more than the margin 0.0325 mse (3 seeds per depth, alpha 0.05)."
    )
    record = verdict_record(result)
    assert (record["call"], record["winner"], record["next_step"]) == ("depth_wins", 3, None)


def test_equal_depths_with_a_tiny_spread_are_equivalent_and_the_cheapest_is_named() -> None:
    result = study_answer(searched(confirmation=confirmation(EQUAL)))
    assert (result.answer.call, result.answer.winner, result.cheapest) == ("equivalent", None, 1)
    assert result.n_params == {1: 600, 2: 2400, 3: 9600}
    assert [t.name for t in result.answer.tests].count("equivalence") == 3  # every pair, not only against the best
    assert result.line.startswith("Equivalent: depths 1, 2, 3 are equal within ±0.0325 mse")
    assert result.line.endswith("take the cheapest, depth 1.")


def test_noisy_seeds_are_inconclusive_with_what_would_settle_it() -> None:
    result = study_answer(searched(confirmation=confirmation(NOISY)))
    assert result.answer.call == "inconclusive" and result.answer.winner is None
    assert result.answer.next_step and "seeds per depth" in result.answer.next_step
    assert result.line.startswith("Inconclusive: depth ") and "To settle it: " in result.line
    record = verdict_record(result)
    assert record["next_step"] == result.answer.next_step and record["reason"] == result.answer.reason


def test_without_a_confirmation_the_call_is_inconclusive_with_the_confirm_advice() -> None:
    study = searched()
    result = analyse(study).answer
    assert (result.answer.call, result.answer.reason) == ("inconclusive", NOT_CONFIRMED)
    assert NOT_CONFIRMED == "Not confirmed: one seed per configuration."
    assert result.answer.next_step == f"run stacksearch confirm {study.study_name} (or a budget with confirm on)"
    record = verdict_record(result)
    assert record["compared_depths"] == [1, 2, 3] and record["tests"] == [] and record["winner"] is None
    assert [(d["depth"], d["seeds"], d["mean"], d["interval"]) for d in record["depths"]] == [
        (1, 0, None, None),
        (2, 0, None, None),
        (3, 0, None, None),
    ]


def test_one_depth_is_single_depth_with_or_without_a_confirmation() -> None:
    alone = study_answer(searched((2,)))
    assert (alone.answer.call, alone.answer.compared_depths, alone.answer.next_step) == ("single_depth", (2,), None)
    assert alone.line == "Single depth: only depth 2 was searched: there is no other depth to compare it with."
    retrained = study_answer(searched((2,), confirmation=confirmation({2: [0.3, 0.31, 0.32]})))
    assert retrained.answer.call == "single_depth" and retrained.answer.depth(2).seeds == 3


def test_trials_without_a_depth_cannot_be_compared(tmp_path: Path) -> None:
    study = optuna.create_study()
    for i in range(6):
        study.add_trial(optuna.trial.create_trial(value=0.1 * i, params={"lr": 0.01}, distributions=_LR))
    result = analyse(study).answer
    assert (result.answer.call, result.answer.reason, result.width) == ("inconclusive", NO_DEPTH, None)
    assert "depth" in result.answer.next_step  # type: ignore[operator]
    record = verdict_record(result)
    assert (record["compared_depths"], record["width_call"], record["depths"]) == ([], None, [])
    summary = render_markdown(analyse(study), [])
    assert summary.splitlines()[2].startswith("**Inconclusive: no trial records a depth")


def test_the_confirm_settings_set_margin_alpha_and_looks() -> None:
    settings = {"top": 3, "seeds": 3, "max_seeds": 9, "margin": 0.3, "alpha": 0.01}
    result = study_answer(searched(confirmation=confirmation(CLEAR), confirm=settings))
    answer = result.answer
    assert (answer.margin, answer.alpha, answer.looks) == (0.3, 0.01, 3)
    assert result.margin.rule == "set in the study (confirm.margin: 0.3)"
    assert answer.call == "equivalent"  # gaps of 0.1 and 0.2 are within a margin of 0.3
    assert all(t.adjusted_p == pytest.approx(min(1.0, 3 * t.p_value)) for t in answer.tests if t.name == "equivalence")
    assert study_answer(searched(confirmation=confirmation(CLEAR), confirm={"seeds": 3})).answer.looks == 1
    with pytest.raises(ConfigError, match=r"confirm\.margin: 'wide' must be a finite number"):
        study_answer(searched(confirmation=confirmation(CLEAR), confirm={"margin": "wide"}))


def test_a_depth_with_several_results_is_represented_by_its_best_mean_and_says_so() -> None:
    attr = confirmation(CLEAR)
    attr["results"].append({"depth": 3, "widths": [32] * 3, "trial": 11, "values": [0.60, 0.61, 0.62]})
    result = study_answer(searched(confirmation=attr))
    assert result.answer.call == "depth_wins" and result.retrained[3].trial == 10
    assert any(n.startswith("Depth 3 has 2 retrained architectures; the one with the best mean") for n in result.notes)


def test_a_multi_objective_confirmation_compares_the_first_objective() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"])
    for d in (1, 2):
        for i in range(3):
            values = [0.5 - 0.1 * d + 0.01 * i, 1000.0 * d]
            study.add_trial(optuna.trial.create_trial(values=values, user_attrs={"depth": d, "widths": [8] * d}))
    values = {1: [[0.40, 1000], [0.41, 1000], [0.42, 1000]], 2: [[0.20, 2000], [0.21, 2000], [0.22, 2000]]}
    study.set_user_attr("confirmation", confirmation(values))
    result = study_answer(study)
    assert (result.answer.call, result.answer.winner) == ("depth_wins", 2)
    assert result.answer.depth(2).scores == (0.20, 0.21, 0.22)
    assert "Multi-objective study: the answer compares the first objective, value." in result.notes


def test_retrained_test_scores_are_reported_only_when_the_confirmation_stored_them() -> None:
    stored = confirmation(CLEAR, {3: {"test_values": [0.33, 0.34, None]}})
    record = verdict_record(study_answer(searched(confirmation=stored)))
    depth3 = next(d for d in record["depths"] if d["depth"] == 3)
    assert depth3["test_scores"] == [0.33, 0.34] and depth3["test_mean"] == pytest.approx(0.335)
    assert "test_mean" not in record["depths"][0]
    assert any(n.startswith("Test mse of the retrained models") for n in record["notes"])
    plain = verdict_record(study_answer(searched(confirmation=confirmation(CLEAR))))
    assert not any(n.startswith("Test") for n in plain["notes"])
    assert any("fresh draw of training noise, not of data" in n for n in plain["notes"])


def test_the_width_answer_compares_each_bands_deepest_and_shallowest_depth() -> None:
    trials = []
    for low in (1100, 2100, 5000, 9000):  # four factor-2 bands, each holding depths 1, 2 and 3
        for d in (1, 2, 3):
            trials.append(trial(d, 16, 0.5 - 0.1 * d + 0.001 * (low % 7), n_params=low + 10 * d))
    study = study_of(*trials, metric="mse", baseline=1.0)
    pairs = band_pairs(iso_param_table(study))
    assert len(pairs) == 4 and all(deep < shallow for deep, shallow in pairs)
    assert all(shallow - deep == pytest.approx(0.2) for deep, shallow in pairs)  # depth 3 against depth 1
    width = study_answer(study).width
    assert width is not None and (width.call, width.bands) == ("deeper_wins", 4)
    assert verdict_record(study_answer(study))["width_call"]["call"] == "deeper_wins"
    assert study_answer(searched()).width.call == "no_bands"  # type: ignore[union-attr]


def test_the_budget_record_is_passed_through_and_shown() -> None:
    budget = {
        "planned": {"budget": "20m", "kind": "seconds", "amount": 1200.0, "search": 984.0, "confirmation": 216.0},
        "spent": {"seconds": 1100.0, "epochs": 583},
    }
    analysis = analyse(searched(budget=budget))
    assert verdict_record(analysis.answer)["budget"] == budget
    assert "| budget | 20m planned: search 16.4 min, confirmation 3.6 min; spent 18.3 min, 583 epochs |" in (
        render_markdown(analysis, [])
    )
    assert verdict_record(study_answer(searched()))["budget"] is None


@pytest.mark.parametrize(
    ("values", "depths", "start"),
    [
        (CLEAR, (1, 2, 3), "Depth 3 wins:"),
        (EQUAL, (1, 2, 3), "Equivalent:"),
        (NOISY, (1, 2, 3), "Inconclusive:"),
        (None, (1, 2, 3), "Inconclusive: not confirmed"),
        (None, (2,), "Single depth:"),
    ],
)
def test_the_headline_starts_with_the_call_in_words(values, depths, start: str) -> None:  # type: ignore[no-untyped-def]
    attrs = {"confirmation": confirmation(values)} if values else {}
    analysis = analyse(searched(depths, **attrs))
    summary = render_markdown(analysis, []).splitlines()
    assert summary[0].endswith(": depth versus width") and summary[2].startswith(f"**{start}")
    page = render_html(analysis, {})
    first = re.search(r"<h1>.*?</h1>\s*<div class=\"verdict\">\s*<p class=\"summary\">([^<]*)</p>", page)
    assert first is not None and first.group(1).startswith(start)
    assert page.index(first.group(1)) < page.index("best architecture")  # before the headline table


def test_report_json_prints_only_the_verdict_with_every_design_field(workdir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{workdir / 'studies.db'}"
    stored = optuna.create_study(storage=url, study_name="mine")
    stored.add_trials(searched().trials)
    stored.set_user_attr("metric", "mse")
    stored.set_user_attr("baseline", 1.0)
    stored.set_user_attr("confirmation", confirmation(CLEAR))
    capsys.readouterr()
    assert main(["report", "mine", "--storage", url, "--json"]) == 0
    out = capsys.readouterr().out
    record = json.loads(out)
    assert set(DESIGN_FIELDS) <= set(record)
    assert (record["call"], record["winner"], record["compared_depths"]) == ("depth_wins", 3, [1, 2, 3])
    assert record["margin"] == pytest.approx(MARGIN) and record["alpha"] == 0.05
    for depth in record["depths"]:
        assert depth["seeds"] == 3 and isinstance(depth["mean"], float) and len(depth["interval"]) == 2
    assert record["tests"] and all(0 <= t["p_value"] <= 1 and "adjusted_p" in t for t in record["tests"])
    assert isinstance(record["reason"], str) and record["next_step"] is None
    assert record["width_call"]["call"] == "no_bands" and record["budget"] is None
    assert json.loads((workdir / "reports" / "mine" / "verdict.json").read_text(encoding="utf-8")) == record
    assert main(["report", "mine", "--storage", url]) == 0
    assert capsys.readouterr().out.startswith("report: ")


_LR = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)}
