"""Matched parameter counts: bands, band winners and Pareto fronts with known answers."""

from __future__ import annotations

import optuna

from stacksearch.report import band_winners, iso_param_table, param_band, pareto_front, pareto_fronts
from stacksearch.report.iso import BandWinner, IsoBandRow, ParetoPoint
from tests.support.reports import PRUNED, study_of, trial


def banded_study(direction: str = "minimize") -> optuna.Study:
    return study_of(
        trial(1, 8, 0.9, n_params=1500),  # 0: band 1024-2047, depth 1 alone
        trial(1, 8, 0.3, n_params=5000),  # 1: band 4096-8191
        trial(1, 8, 0.5, n_params=6000),  # 2
        trial(2, 8, 0.2, n_params=7000),  # 3
        trial(1, 8, 0.1, n_params=9000),  # 4: band 8192-16383
        trial(3, 8, 0.15, n_params=16000),  # 5
        trial(1, 8, 0.4, n_params=40000),  # 6: band 32768-65535, a tie
        trial(2, 8, 0.4, n_params=50000),  # 7
        trial(3, 8, state=PRUNED, n_params=4500),  # never scored
        direction=direction,
    )


def test_param_band_is_a_half_open_power_of_the_factor() -> None:
    assert [param_band(n) for n in (4095, 4096, 8191, 1)] == [(2048, 4096), (4096, 8192), (4096, 8192), (1, 2)]
    assert param_band(4096) == (4096, 8192)
    assert param_band(999, factor=10) == (100, 1000)
    assert param_band(1000, factor=10) == (1000, 10000)


def test_iso_table_gives_the_best_per_depth_in_each_band_and_marks_the_winner() -> None:
    assert iso_param_table(banded_study()) == [
        IsoBandRow(1024, 2048, 1, 1, 0.9, 0.9, 0, (8,), False),
        IsoBandRow(4096, 8192, 1, 2, 0.3, 0.4, 1, (8,), False),
        IsoBandRow(4096, 8192, 2, 1, 0.2, 0.2, 3, (8, 8), True),
        IsoBandRow(8192, 16384, 1, 1, 0.1, 0.1, 4, (8,), True),
        IsoBandRow(8192, 16384, 3, 1, 0.15, 0.15, 5, (8, 8, 8), False),
        IsoBandRow(32768, 65536, 1, 1, 0.4, 0.4, 6, (8,), False),
        IsoBandRow(32768, 65536, 2, 1, 0.4, 0.4, 7, (8, 8), False),
    ]


def test_band_winners_skip_single_depth_bands_and_ties() -> None:
    assert band_winners(banded_study()) == [
        BandWinner(4096, 8192, depth=2, value=0.2, trial=3, runner_up_depth=1, runner_up_value=0.3, n_depths=2),
        BandWinner(8192, 16384, depth=1, value=0.1, trial=4, runner_up_depth=3, runner_up_value=0.15, n_depths=2),
    ]


def test_band_winners_follow_the_direction() -> None:
    winners = band_winners(banded_study("maximize"))
    assert [(w.params_low, w.depth, w.value) for w in winners] == [(4096, 1, 0.5), (8192, 3, 0.15)]


def test_pareto_front_keeps_trials_no_smaller_trial_beats() -> None:
    study = study_of(
        trial(1, 8, 0.5, n_params=100),
        trial(2, 8, 0.6, n_params=200),  # dominated by #0
        trial(1, 8, 0.4, n_params=300),
        trial(2, 8, 0.4, n_params=300),  # ties #2 on both: not added twice
        trial(2, 8, 0.1, n_params=900),
    )
    assert [p.trial for p in pareto_front(study)] == [0, 2, 4]
    assert pareto_fronts(study) == {
        1: [ParetoPoint(0, 1, 100, 0.5, (8,)), ParetoPoint(2, 1, 300, 0.4, (8,))],
        2: [
            ParetoPoint(1, 2, 200, 0.6, (8, 8)),
            ParetoPoint(3, 2, 300, 0.4, (8, 8)),
            ParetoPoint(4, 2, 900, 0.1, (8, 8)),
        ],
    }


def test_pareto_front_of_a_maximised_study_climbs() -> None:
    study = study_of(
        trial(1, 8, 0.5, n_params=100),
        trial(1, 8, 0.4, n_params=200),
        trial(1, 8, 0.9, n_params=300),
        direction="maximize",
    )
    assert [p.trial for p in pareto_front(study)] == [0, 2]


def test_multi_objective_front_uses_the_parameter_objective() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"])
    for value, n_params in ((0.3, 500.0), (0.2, 900.0), (0.4, 800.0)):
        study.add_trial(optuna.trial.create_trial(values=[value, n_params], user_attrs={"depth": 2}))
    assert [(p.trial, p.n_params) for p in pareto_front(study)] == [(0, 500), (1, 900)]
    assert {t.number for t in study.best_trials} == {0, 1}
