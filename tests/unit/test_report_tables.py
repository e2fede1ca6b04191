"""Depth-by-width, per-depth, cost and outcome tables on studies with known answers."""

from __future__ import annotations

import math

import optuna
import pytest
from scipy import stats

from stacksearch.report import (
    collect,
    cost_table,
    depth_summary,
    depth_width_table,
    headline,
    unfinished_reasons,
    width_bins,
)
from stacksearch.report.tables import CostRow, DepthWidthRow
from tests.support.reports import FAIL, PRUNED, study_of, trial


@pytest.fixture
def grid_study():
    """Depth 1 and 2 at widths 16 and 32, with pruned and failed trials mixed in."""
    return study_of(
        trial(1, 16, 0.5, n_params=1100),  # 0
        trial(1, 16, 0.3, n_params=1100),  # 1
        trial(1, 16, state=PRUNED, n_params=1100),  # 2
        trial(1, 16, state=FAIL, n_params=1100),  # 3
        trial(1, 32, 0.4, n_params=4300),  # 4
        trial(2, 16, 0.2, n_params=3200),  # 5
        trial(2, 16, 0.6, n_params=3200),  # 6
        trial(2, 16, 0.1, n_params=3300),  # 7
        trial(2, 32, state=PRUNED, n_params=12600),  # 8
        metric="mse",
        baseline=0.7,
    )


def test_depth_width_table_gives_best_median_and_counts_per_cell(grid_study) -> None:
    assert depth_width_table(grid_study) == [
        DepthWidthRow(1, "16", 4, 2, 0.3, 0.4, 1, 1100.0),
        DepthWidthRow(1, "32", 1, 1, 0.4, 0.4, 4, 4300.0),
        DepthWidthRow(2, "16", 3, 3, 0.1, 0.2, 7, 3200.0),
        DepthWidthRow(2, "32", 1, 0, None, None, None, 12600.0),
    ]


def test_maximised_study_picks_the_highest_score() -> None:
    study = study_of(trial(1, 8, 0.7), trial(1, 8, 0.9), trial(1, 8, 0.8), direction="maximize")
    row = depth_width_table(study)[0]
    assert (row.best_value, row.best_trial, row.median_value) == (0.9, 1, 0.8)


def test_many_widths_fall_in_power_of_two_bins() -> None:
    widths = [8, 9, 12, 15, 16, 20, 31, 32, 63, 64]
    study = study_of(*(trial(1, w, float(i)) for i, w in enumerate(widths)))
    rows = depth_width_table(study)
    assert [(r.width, r.n_trials, r.best_trial) for r in rows] == [
        ("8-15", 4, 0),
        ("16-31", 3, 4),
        ("32-63", 2, 7),
        ("64-127", 1, 9),
    ]


def test_width_bins_stay_exact_up_to_eight_widths() -> None:
    assert width_bins([64, 16, 32, 16]).labels == ["16", "32", "64"]
    assert width_bins([40.5, 16]).labels == ["16", "40.5"]


def test_per_layer_width_is_the_mean_over_layers() -> None:
    trials = [trial(2, [16 + i, 48], float(i), mode="per_layer") for i in range(9)]  # means 32..36
    trials.append(trial(2, [8, 9], 9.0, mode="per_layer"))  # mean 8.5
    rows = depth_width_table(study_of(*trials))
    assert [(r.width, r.n_trials) for r in rows] == [("8-15", 1), ("32-63", 9)]


def test_widths_are_derived_from_parameters_without_the_widths_attribute() -> None:
    data = collect(
        study_of(trial(3, 24, 0.2, widths_attr=False), trial(2, [8, 4], 0.1, mode="per_layer", widths_attr=False))
    )
    assert [r.widths for r in data.trials] == [(24, 24, 24), (8, 4)]


def test_iso_params_trials_without_widths_are_left_out_of_the_grid_but_counted() -> None:
    study = study_of(trial(2, None, 0.3, mode="iso_params"), trial(1, 64, 0.5))
    assert [(r.depth, r.width) for r in depth_width_table(study)] == [(1, "64")]
    assert headline(study).n_complete == 2


def test_study_from_plain_optuna_code_gets_value_as_metric_and_no_baseline() -> None:
    data = collect(study_of(trial(1, 8, 0.5)))
    assert (data.metric, data.baseline, data.reference, data.benchmark) == ("value", None, None, None)


def test_study_attributes_fall_back_to_the_benchmark_dictionary() -> None:
    bench = {"name": "adding", "metric": "mse", "baseline": 0.167, "reference": {"value": 0.01, "source": "x"}}
    data = collect(study_of(trial(1, 8, 0.5), benchmark=bench))
    assert (data.metric, data.baseline, data.benchmark) == ("mse", 0.167, "adding")
    assert data.reference == {"value": 0.01, "source": "x"}


def test_depth_summary_intervals_cover_the_best_trials_of_each_depth() -> None:
    values = [0.5, 0.1, 0.4, 0.2, 0.3, 0.9]
    study = study_of(*(trial(1, 8, v) for v in values), trial(2, 8, 0.05))
    first, second = depth_summary(study, top_k=3)
    top = [0.1, 0.2, 0.3]
    half = stats.t.ppf(0.975, 2) * stats.sem(top)
    assert (first.n_complete, first.best_value, first.best_trial) == (6, 0.1, 1)
    assert first.median_value == pytest.approx(0.35)
    assert first.top_n == 3
    assert first.top_mean == pytest.approx(0.2)
    assert (first.top_low, first.top_high) == (pytest.approx(0.2 - half), pytest.approx(0.2 + half))
    assert (second.top_n, second.top_mean, second.top_low, second.top_high) == (1, 0.05, None, None)


def test_cost_table_counts_outcomes_and_excludes_rejected_trials_from_the_pruned_share() -> None:
    study = study_of(
        trial(1, 8, 0.5, seconds=10.0, curve=[0.9, 0.7, 0.6, 0.5]),
        trial(1, 8, 0.4, seconds=30.0, curve=[0.8, 0.4]),
        trial(1, 8, state=PRUNED, seconds=2.0, curve=[0.9]),
        trial(1, 8, state=PRUNED, seconds=None, reject_reason="too big", epochs_trained=0),
        trial(1, 8, state=FAIL, seconds=1.0, curve=[], fail_reason="nan loss"),
    )
    assert cost_table(study) == [
        CostRow(
            depth=1,
            n_trials=5,
            n_complete=2,
            n_pruned=1,
            n_rejected=1,
            n_failed=1,
            pruned_share=0.25,
            median_epochs=1.5,
            median_seconds=6.0,
            total_seconds=43.0,
            median_seconds_per_epoch=2.5,
            median_n_params=1000.0,
        )
    ]


def test_unfinished_reasons_group_rejected_pruned_and_failed_trials() -> None:
    study = study_of(
        trial(1, 8, 0.5),
        trial(1, 8, state=PRUNED, reject_reason="over max_params"),
        trial(2, 8, state=PRUNED, reject_reason="over max_params"),
        trial(1, 8, state=PRUNED),
        trial(1, 8, state=FAIL, fail_reason="out of memory"),
    )
    assert [(r.state, r.reason, r.count, r.example_trial) for r in unfinished_reasons(study)] == [
        ("REJECTED", "over max_params", 2, 1),
        ("PRUNED", "-", 1, 3),
        ("FAIL", "out of memory", 1, 4),
    ]


def test_headline_names_the_best_trial_and_counts_every_outcome(grid_study) -> None:
    grid_study.add_trial(trial(1, 8, state=PRUNED, reject_reason="too big", seconds=None))
    h = headline(grid_study)
    assert (h.best.number, h.best.value, h.baseline, h.metric) == (7, 0.1, 0.7, "mse")
    assert (h.n_complete, h.n_pruned, h.n_rejected, h.n_failed, h.n_running) == (6, 2, 1, 1, 0)
    assert h.train_seconds == 90.0


def test_headline_reads_the_test_score_of_the_best_trial() -> None:
    study = study_of(trial(1, 8, 0.5, test_mse=0.55), trial(2, 8, 0.2, test_mse=0.25), metric="mse")
    assert headline(study).best.test_value == 0.25


def test_multi_objective_study_scores_the_first_objective_and_reads_parameters_from_the_second() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"])
    for value, n_params in ((0.3, 500.0), (0.2, 900.0)):
        study.add_trial(optuna.trial.create_trial(values=[value, n_params], user_attrs={"depth": 1, "widths": [8]}))
    data = collect(study)
    assert data.multi_objective and [(r.value, r.n_params) for r in data.trials] == [(0.3, 500), (0.2, 900)]
    assert headline(study).best.number == 1


def test_headline_refuses_a_study_without_a_completed_trial() -> None:
    with pytest.raises(ValueError, match="no completed trial"):
        headline(study_of(trial(1, 8, state=PRUNED)))


def test_non_finite_widths_attribute_falls_back_to_parameters() -> None:
    data = collect(study_of(trial(2, 8, 0.1, widths_attr=False, widths=[math.nan, 8])))
    assert data.trials[0].widths == (8, 8)


# per-depth intervals: shown from MIN_INTERVAL_POINTS trials up, never past the metric's range


def test_two_trials_give_a_mean_but_no_interval_and_the_caption_says_why() -> None:
    study = study_of(trial(1, 8, 0.05), trial(1, 8, 0.1545), trial(2, 8, 0.3), metric="mse")  # once [-0.5633, 0.7678]
    first, second = depth_summary(study)
    assert (first.top_n, first.top_mean, first.top_low, first.top_high) == (2, pytest.approx(0.10225), None, None)
    assert (second.top_n, second.top_mean, second.top_low) == (1, 0.3, None)
    from stacksearch.report.analysis import analyse
    from stacksearch.report.markdown import render_markdown
    from stacksearch.report.views import depths_caption, depths_view

    analysis = analyse(study)
    headers, rows = depths_view(analysis)
    assert [row[headers.index("95% interval")] for row in rows] == ["-", "-"]
    caption = depths_caption(analysis)
    assert "shown from 3 trials up" in caption and "*" not in caption
    assert caption in render_markdown(analysis, [])


@pytest.mark.parametrize(
    "metric, direction, values, clipped",
    [
        ("mse", "minimize", [0.01, 0.02, 0.6], (True, False)),
        ("smape", "minimize", [1.0, 2.0, 90.0], (True, False)),
        ("cross_entropy", "minimize", [0.01, 0.02, 0.6], (True, False)),
        ("accuracy", "maximize", [0.99, 1.0, 0.9], (False, True)),
        ("value", "minimize", [0.01, 0.02, 0.6], (False, False)),  # a metric stacksearch does not know: no range
    ],
)
def test_an_interval_end_past_the_metric_range_is_moved_onto_it_and_marked(metric, direction, values, clipped) -> None:
    study = study_of(*(trial(1, 8, v) for v in values), metric=metric, direction=direction)
    (row,) = depth_summary(study)
    mean = sum(values) / 3
    half = stats.t.ppf(0.975, 2) * stats.sem(values)
    assert row.top_low == (0.0 if clipped[0] else pytest.approx(mean - half))
    assert row.top_high == (1.0 if clipped[1] else pytest.approx(mean + half))
    assert row.top_clipped == clipped
    from stacksearch.report.analysis import analyse
    from stacksearch.report.views import depths_caption, depths_view

    analysis = analyse(study)
    headers, rows = depths_view(analysis)
    cell = rows[0][headers.index("95% interval")]
    assert cell.startswith("[0*,") == clipped[0] and cell.endswith(", 1*]") == clipped[1]
    assert ("* marks an end moved onto the range of" in depths_caption(analysis)) == any(clipped)


def test_confirmation_intervals_follow_the_same_rules() -> None:
    from stacksearch.report import confirmation_summary

    two, three = confirmation_summary(
        {
            "seeds": 3,
            "results": [
                {"depth": 1, "widths": [8], "trial": 0, "values": [0.05, 0.1545]},
                {"depth": 2, "widths": [8, 8], "trial": 1, "values": [0.01, 0.02, 0.6]},
            ],
        },
        "minimize",
        "mse",
    ).rows
    assert (two.mean, two.low, two.high) == (pytest.approx(0.10225), None, None)
    assert (three.low, three.clipped) == (0.0, (True, False))
