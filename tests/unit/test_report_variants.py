"""The report over stack variants: per-variant tables, whether the variant changes the depth answer, importances."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial

from stacksearch.report import DEPTH_WIDTH_COLUMNS, write_report
from stacksearch.report.analysis import analyse
from stacksearch.report.importance import param_importances
from stacksearch.report.trials import collect
from stacksearch.report.variants import variant_call, variant_tables, variants_of
from tests.support.reports import study_of, trial

BANDS = (1000, 3000, 12000)  # three factor-2 bands


def _variant_trial(depth: int, value: float, n_params: int, *, residual: bool, width: int = 16) -> FrozenTrial:
    """A trial whose space searched ``residual``: the parameter and the user attribute, as the search records them."""
    base = trial(depth, width, value, n_params=n_params, residual=residual)
    return optuna.trial.create_trial(
        value=value,
        params={**base.params, "residual": residual},
        distributions={**base.distributions, "residual": CategoricalDistribution([False, True])},
        user_attrs=base.user_attrs,
        intermediate_values=base.intermediate_values,
    )


def _study(residual_winner: int) -> optuna.Study:
    """Plain stacks: depth 1 wins every band; residual stacks: ``residual_winner`` wins every band."""
    trials = []
    for i, n_params in enumerate(BANDS):
        trials += [
            _variant_trial(1, 0.20 + 0.01 * i, n_params, residual=False),
            _variant_trial(3, 0.40 + 0.01 * i, n_params, residual=False, width=8),
        ]
        deep, shallow = (0.10, 0.30) if residual_winner == 3 else (0.30, 0.10)
        trials += [
            _variant_trial(1, shallow + 0.01 * i, n_params, residual=True),
            _variant_trial(3, deep + 0.01 * i, n_params, residual=True, width=8),
        ]
    return study_of(*trials, metric="mse")


def test_records_name_their_variant_and_plain_when_the_attributes_are_absent() -> None:
    data = collect(study_of(trial(1, 16, 0.3), trial(1, 16, 0.2, bidirectional=True, residual=True)))
    assert [r.variant for r in data.trials] == ["plain", "bidirectional+residual"]
    assert variants_of(data) == ("plain", "bidirectional+residual")


def test_the_variant_changes_the_depth_answer_when_each_variant_wins_with_another_depth(
    tmp_path: Path, no_figures: None
) -> None:
    study = _study(residual_winner=3)
    a = analyse(study)
    assert [t.variant for t in a.variants] == ["plain", "residual"]
    assert [{w.depth for w in t.band_winners} for t in a.variants] == [{1}, {3}]
    assert a.variant_call is not None and a.variant_call.call == "changes"
    assert a.variant_call.best == {"plain": 1, "residual": 3}
    sentence = (
        "At matched parameter counts the best depth is 1 for plain and 3 for residual: "
        "the variant changes the depth answer."
    )
    assert a.variant_call.sentence == sentence
    assert sentence in a.verdict.lines

    files = write_report(study, tmp_path)
    with files["csv"].open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [*DEPTH_WIDTH_COLUMNS, "variant"]
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [
        ("1", "16", "plain"),
        ("3", "8", "plain"),
        ("1", "16", "residual"),
        ("3", "8", "residual"),
    ]
    assert [r[4] for r in rows[1:]] == ["0.2", "0.4", "0.3", "0.1"]  # each variant's own best
    record = json.loads(files["verdict"].read_text())
    assert record["variant_call"]["call"] == "changes" and record["variant_call"]["changes"] is True
    assert record["variant_call"]["best"] == {"plain": 1, "residual": 3}
    html, summary = files["html"].read_text(), files["summary"].read_text()
    for text in (html, summary):
        assert "Variant: plain" in text and "Variant: residual" in text
        assert "the variant changes the depth answer" in text


def test_the_variant_does_not_change_the_depth_answer_when_the_same_depth_wins(
    tmp_path: Path, no_figures: None
) -> None:
    a = analyse(_study(residual_winner=1))
    assert a.variant_call is not None and a.variant_call.call == "same" and a.variant_call.changes is False
    assert a.variant_call.sentence == (
        "At matched parameter counts the best depth is 1 for plain and 1 for residual: "
        "the variant does not change the depth answer."
    )
    record = json.loads(write_report(_study(residual_winner=1), tmp_path)["verdict"].read_text())
    assert record["variant_call"]["changes"] is False


def test_a_tie_for_the_most_bands_leaves_a_variant_without_a_best_depth() -> None:
    trials = [_variant_trial(1, 0.2, n, residual=False) for n in BANDS[:2]]
    trials += [_variant_trial(3, 0.3, n, residual=False, width=8) for n in BANDS[:2]]
    trials += [_variant_trial(1, 0.1, BANDS[0], residual=True), _variant_trial(3, 0.3, BANDS[0], residual=True)]
    trials += [_variant_trial(1, 0.3, BANDS[1], residual=True), _variant_trial(3, 0.1, BANDS[1], residual=True)]
    call = variant_call(variant_tables(study_of(*trials)))
    assert call is not None and call.call == "unknown" and call.changes is None
    assert call.best == {"plain": 1} and call.tied == {"residual": (1, 3)}
    assert "cannot tell" in call.sentence and "residual: depths 1 and 3 tie for the most bands" in call.sentence


def test_one_variant_makes_the_report_it_made_before_variants(tmp_path: Path, no_figures: None) -> None:
    plain = [trial(1 + i % 2, 16, 0.5 - 0.1 * (i % 2) + 0.01 * i, n_params=1000 + 10 * i) for i in range(6)]
    residual = [
        trial(1 + i % 2, 16, 0.5 - 0.1 * (i % 2) + 0.01 * i, n_params=1000 + 10 * i, residual=True) for i in range(6)
    ]
    a = analyse(study_of(*residual))
    assert a.variants == () and a.variant_call is None
    written = []
    for name, trials in [("plain", plain), ("residual", residual)]:
        study = optuna.create_study(study_name="same")
        study.add_trials(trials)
        written.append(write_report(study, tmp_path / name))
    for key in ("csv", "verdict", "summary", "html"):
        assert written[0][key].read_bytes() == written[1][key].read_bytes()
    assert "variant" not in written[0]["csv"].read_text().splitlines()[0]
    assert "variant_call" not in json.loads(written[0]["verdict"].read_text())


def test_importances_include_the_searched_variant_key() -> None:
    result = param_importances(_study(residual_winner=3))
    assert "residual" in result.ped_anova
    assert result.fanova is not None and "residual" in result.fanova


def test_every_trial_with_the_same_value_reports_without_importances(tmp_path: Path, no_figures: None) -> None:
    study = study_of(*[trial(1 + i % 2, 16 * (i + 1), 0.5, n_params=1000 * (i + 1)) for i in range(3)])
    result = param_importances(study)
    assert result.ped_anova == {} and result.fanova is None
    assert result.notes == ("Importances not computed: every scored trial has the same value.",)
    files = write_report(study, tmp_path)
    assert "every scored trial has the same value" in files["html"].read_text()
