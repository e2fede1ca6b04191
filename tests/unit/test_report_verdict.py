"""The verdict, importances, learning curves and confirmation statistics on known studies."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from stacksearch.report import UNCONFIRMED, confirmation_summary, learning_curves, param_importances, verdict
from stacksearch.report import importance as importance_module
from tests.support.reports import PRUNED, study_of, trial


def depth_study(depth_values: dict[int, list[float]], **attrs):
    """One shared-width trial per value, widths and learning rates varying."""
    trials = [
        trial(depth, 8 * (1 + i % 4), value, lr=10 ** -(2 + (i % 3)), n_params=1000 * depth + i)
        for depth, values in depth_values.items()
        for i, value in enumerate(values)
    ]
    return study_of(*trials, **attrs)


SEPARATED = {1: [0.50, 0.51, 0.52, 0.53, 0.54, 0.60], 2: [0.10, 0.11, 0.12, 0.13, 0.14, 0.20]}


def test_single_depth_is_not_compared() -> None:
    v = verdict(depth_study({1: [0.3, 0.4]}))
    assert (v.call, v.leader, v.confirmation) == ("single depth", 1, UNCONFIRMED)
    assert "only depth 1 was searched" in v.summary
    assert v.answer.answer.call == "single_depth"


def test_too_few_trials_per_depth_is_too_thin_to_call() -> None:
    v = verdict(depth_study({1: SEPARATED[1], 2: [0.1, 0.11, 0.12]}))
    assert (v.call, v.leader) == ("too thin", 2)
    assert any("depth 2 (3) completed fewer than 5 trials" in line for line in v.lines)


def test_overlapping_intervals_name_no_winner() -> None:
    v = verdict(depth_study({1: [0.20, 0.30, 0.40, 0.25, 0.35], 2: [0.21, 0.29, 0.38, 0.26, 0.33]}))
    assert (v.call, v.leader) == ("overlap", 2)
    assert v.summary.startswith("in the search, no depth is clear of the others")


def test_clearly_separated_depths_lead_the_search_but_name_no_winner_unconfirmed() -> None:
    v = verdict(depth_study(SEPARATED))
    assert (v.call, v.leader, v.confirmation) == ("clear lead", 2, UNCONFIRMED)
    assert v.summary == f"in the search, depth 2 leads clear of every other depth; {UNCONFIRMED}"
    assert not any("wins" in line for line in v.lines)
    assert (v.answer.answer.call, v.answer.answer.winner) == ("inconclusive", None)


def test_depths_without_a_completed_trial_are_named_as_not_compared() -> None:
    study = depth_study(SEPARATED)
    study.add_trial(trial(4, 256, state=PRUNED, reject_reason="over max_params"))
    v = verdict(study)
    assert (v.call, v.leader) == ("clear lead", 2)
    assert "Depth 4: no completed trial (all pruned, rejected or failed), so not compared." in v.lines


def test_pruned_trials_never_enter_the_scores() -> None:
    study = depth_study(SEPARATED)
    for _ in range(10):
        study.add_trial(trial(1, 8, state=PRUNED, curve=[0.01]))
    assert verdict(study).leader == 2


def test_baseline_line_warns_when_nothing_beats_the_trivial_predictor() -> None:
    lines = verdict(depth_study(SEPARATED, baseline=0.05, metric="mse")).lines
    assert "no better than the trivial baseline 0.05" in lines[0]
    assert "better than the trivial baseline 0.5" in verdict(depth_study(SEPARATED, baseline=0.5)).lines[0]
    assert "no trivial baseline is known" in verdict(depth_study(SEPARATED)).lines[0]


def test_matched_parameter_line_counts_band_wins() -> None:
    assert verdict(depth_study(SEPARATED)).lines[2].startswith("No factor-2 parameter band holds two depths")
    study = study_of(
        trial(1, 8, 0.3, n_params=5000),
        trial(2, 8, 0.2, n_params=6000),
        trial(1, 8, 0.1, n_params=9000),
        trial(2, 8, 0.2, n_params=10000),
    )
    assert "depth 1 wins 1, depth 2 wins 1" in verdict(study).lines[2]
    assert verdict(study).lines[2].startswith("At matched parameter counts (2 factor-2 bands hold two or more depths)")


def test_a_winner_that_loses_the_matched_bands_is_flagged() -> None:
    trials = [trial(2, 8, 0.10 + 0.01 * i, n_params=60000) for i in range(5)]  # depth 2 only big
    trials += [trial(1, 8, 0.50 + 0.01 * i, n_params=5000) for i in range(5)]
    trials += [trial(2, 8, 0.60 + 0.01 * i, n_params=5000 + 100 * i) for i in range(5)]  # loses small bands
    trials += [trial(1, 8, 0.40, n_params=20000), trial(2, 8, 0.45, n_params=20000)]
    v = verdict(study_of(*trials))
    assert (v.call, v.leader) == ("clear lead", 2)
    band = next(line for line in v.lines if line.startswith("At matched"))
    assert band.endswith(
        "depth 1 wins 2. Depth 2 leads the search overall but not the most bands: its lead may come from size, "
        "not depth."
    )


def test_the_confirmation_state_follows_the_answer_not_a_plain_welch_test() -> None:
    confirmed = {
        "seeds": 3,
        "results": [
            {"depth": 1, "widths": [8], "trial": 0, "values": [0.50, 0.52, 0.51]},
            {"depth": 2, "widths": [8, 8], "trial": 6, "values": [0.10, 0.12, 0.11]},
        ],
    }
    v = verdict(depth_study(SEPARATED, confirmation=confirmed))
    assert v.confirmation == "confirmed" and v.answer.answer.call == "depth_wins"
    assert v.summary.endswith("; retrained with fresh seeds: depth 2 wins")
    noisy = {
        "seeds": 3,
        "results": [
            {"depth": 1, "widths": [8], "trial": 0, "values": [0.1, 0.9, 0.5]},
            {"depth": 2, "widths": [8, 8], "trial": 6, "values": [0.2, 0.6, 0.4]},
        ],
    }
    v = verdict(depth_study(SEPARATED, confirmation=noisy))
    assert v.confirmation == "not confirmed" and v.answer.answer.call == "inconclusive"
    assert v.summary.endswith("; retrained with fresh seeds: inconclusive")
    # Welch against zero difference calls this "significant"; the answer needs more than the margin
    tiny_gap = {
        "seeds": 3,
        "results": [
            {"depth": 1, "widths": [8], "trial": 0, "values": [0.5000, 0.5001, 0.5002]},
            {"depth": 2, "widths": [8, 8], "trial": 6, "values": [0.4990, 0.4991, 0.4992]},
        ],
    }
    v = verdict(depth_study(SEPARATED, confirmation=tiny_gap, baseline=1.0))
    assert confirmation_summary(tiny_gap, "minimize").confirmed
    assert v.answer.answer.call == "equivalent" and v.confirmation == "confirmed"
    assert "depth 2 wins" not in v.summary and "equivalent" in v.summary


# importances


def test_importances_rank_the_parameter_that_drives_the_score() -> None:
    values = {1: [0.9 + 0.001 * i for i in range(20)], 2: [0.1 + 0.001 * i for i in range(20)]}
    result = param_importances(depth_study(values))
    assert set(result.ped_anova) == {"depth", "width", "learning_rate"}
    assert max(result.ped_anova, key=result.ped_anova.get) == "depth"
    assert max(result.fanova, key=result.fanova.get) == "depth"
    assert result.n_trials == 40 and result.fanova_trials == 40
    assert sum(result.ped_anova.values()) == pytest.approx(1.0)


def test_importances_of_a_maximised_study_match_the_minimised_mirror() -> None:
    values = {1: [0.9 + 0.001 * i for i in range(20)], 2: [0.1 + 0.001 * i for i in range(20)]}
    mirror = {d: [-v for v in vs] for d, vs in values.items()}
    low = param_importances(depth_study(values))
    high = param_importances(depth_study(mirror, direction="maximize"))
    assert low.ped_anova == pytest.approx(high.ped_anova)


def test_per_layer_widths_collapse_into_one_width_parameter() -> None:
    trials = [trial(1 + i % 3, [8 + i] * (1 + i % 3), float(i % 3), mode="per_layer") for i in range(24)]
    result = param_importances(study_of(*trials))
    assert "width" in result.ped_anova
    assert not any(name.startswith("units") for name in result.ped_anova)


def test_parameters_that_do_not_vary_are_dropped_and_named() -> None:
    result = param_importances(study_of(*(trial(2, 8 + i, float(i)) for i in range(6))))
    assert result.dropped == ("depth", "learning_rate") and set(result.ped_anova) == {"width"}


def test_too_few_trials_give_no_importances_and_say_why() -> None:
    result = param_importances(study_of(trial(1, 8, 0.5)))
    assert result.ped_anova == {} and result.fanova is None
    assert result.notes == ("Importances not computed: fewer than two scored trials with a known depth and width.",)


def test_fanova_is_skipped_with_a_note_without_scikit_learn(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(**_: object) -> None:
        raise ImportError("No module named 'sklearn'")

    monkeypatch.setattr(importance_module, "FanovaImportanceEvaluator", missing)
    result = param_importances(depth_study(SEPARATED))
    assert result.fanova is None and result.ped_anova
    assert "scikit-learn" in result.notes[0]


def test_fanova_subsamples_large_studies_and_says_so() -> None:
    result = param_importances(depth_study(SEPARATED), max_fanova_trials=5)
    assert result.fanova_trials == 5 and result.n_trials == 12
    assert result.notes == ("fANOVA ran on a random subsample of 5 of 12 scored trials.",)


# learning curves


def test_learning_curves_of_the_top_trials_and_the_best_per_depth() -> None:
    study = study_of(
        trial(1, 8, 0.5, curve=[0.9, 0.5]),
        trial(1, 8, 0.3, curve=[0.8, 0.6, 0.3]),
        trial(2, 8, 0.4, curve=[0.7, 0.4]),
        trial(2, 8, 0.1, curve=[]),  # no intermediate values: not drawn
    )
    curves = learning_curves(study, top=2)
    assert [(c.trial, c.values) for c in curves.top] == [(1, (0.8, 0.6, 0.3)), (2, (0.7, 0.4))]
    assert [(c.depth, c.trial, c.steps) for c in curves.best_per_depth] == [(1, 1, (0, 1, 2)), (2, 2, (0, 1))]


# confirmation statistics


def test_confirmation_summary_gives_t_intervals_and_welch_tests() -> None:
    a, b = [0.30, 0.32, 0.31, 0.35], [0.20, 0.21, 0.25]
    summary = confirmation_summary(
        {
            "seeds": 4,
            "results": [
                {"depth": 1, "widths": [64], "trial": 4, "values": a},
                {"depth": 2, "widths": [32, 32], "trial": 9, "values": b},
            ],
        },
        "minimize",
    )
    one, two = summary.rows
    half = stats.t.ppf(0.975, 3) * stats.sem(a)
    assert one.mean == pytest.approx(sum(a) / 4)
    assert (one.low, one.high) == (pytest.approx(one.mean - half), pytest.approx(one.mean + half))
    assert (two.depth, two.widths, two.trial, len(two.values)) == (2, (32, 32), 9, 3)
    expected = stats.ttest_ind(b, a, equal_var=False)
    (test,) = summary.tests
    assert (summary.best_depth, test.best_depth, test.other_depth) == (2, 2, 1)
    assert test.p_value == pytest.approx(expected.pvalue) and test.statistic == pytest.approx(expected.statistic)
    assert test.difference == pytest.approx(sum(b) / 3 - sum(a) / 4)
    assert summary.confirmed


def test_confirmation_picks_the_highest_mean_when_maximising_and_each_depths_best_result() -> None:
    summary = confirmation_summary(
        {
            "seeds": 2,
            "results": [
                {"depth": 1, "widths": [8], "trial": 1, "values": [0.70, 0.72]},
                {"depth": 1, "widths": [16], "trial": 2, "values": [0.90, 0.91]},
                {"depth": 3, "widths": [8, 8, 8], "trial": 3, "values": [0.80, 0.82]},
            ],
        },
        "maximize",
    )
    assert summary.best_depth == 1
    assert [(t.best_depth, t.other_depth) for t in summary.tests] == [(1, 3)]
    assert summary.tests[0].difference == pytest.approx(0.905 - 0.81)


def test_one_seed_or_failed_seeds_give_no_interval_and_no_test() -> None:
    summary = confirmation_summary(
        {
            "seeds": 2,
            "results": [
                {"depth": 1, "widths": [8], "trial": 1, "values": [0.5, math.nan]},
                {"depth": 2, "widths": [8, 8], "trial": 2, "values": [0.4, None]},
            ],
        },
        "minimize",
    )
    assert [(r.values, r.n_failed, r.mean, r.low) for r in summary.rows] == [
        ((0.5,), 1, 0.5, None),
        ((0.4,), 1, 0.4, None),
    ]
    assert summary.tests[0].p_value is None and not summary.confirmed


def test_constant_seeds_cannot_be_tested() -> None:
    summary = confirmation_summary(
        {"seeds": 3, "results": [{"depth": 1, "values": [0.5] * 3}, {"depth": 2, "values": [0.4] * 3}]},
        "minimize",
    )
    assert summary.tests[0].p_value is None and not summary.confirmed
    assert (summary.rows[0].low, summary.rows[0].high) == (0.5, 0.5)
