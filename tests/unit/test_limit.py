"""The limit ratio: steady epochs per trial, borrowed for one-epoch trials, summed per run and over runs."""

from __future__ import annotations

import datetime as dt

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from stacksearch.search.confirming import confirm_name
from stacksearch.search.limit import limit_line, record_limit, run_timings
from stacksearch.steady import limit_ratio, steady_per_epoch, steady_total
from stacksearch.train import fit_model
from tests.support.fake_model import ScriptedModel, tiny_data

NOW = dt.datetime(2026, 12, 4, 12, 0, 0)


def test_the_first_epoch_is_not_steady_and_the_median_of_the_rest_is():
    assert steady_per_epoch([3.0, 0.2, 0.4, 0.3]) == pytest.approx(0.3)
    assert steady_per_epoch([3.0]) is None and steady_per_epoch([]) is None


def test_a_one_epoch_trial_borrows_the_steady_epoch_of_the_nearest_size():
    small, large = (3, [2.0, 0.1, 0.1], 1_000), (3, [4.0, 1.0, 1.0], 100_000)
    assert steady_total([small, large, (1, [2.5], 1_200)]) == pytest.approx(0.3 + 3.0 + 0.1)
    assert steady_total([small, large, (1, [5.0], 90_000)]) == pytest.approx(0.3 + 3.0 + 1.0)
    assert steady_total([(1, [2.5], 1_000), (1, [1.5], None)]) == pytest.approx(4.0)  # nothing to borrow: its own
    assert steady_total([(0, [], 1_000)]) == 0.0 and limit_ratio(10.0, 1, 0.0) is None


def test_fit_model_times_every_epoch_it_trains():
    result = fit_model(ScriptedModel([0.5, 0.4, 0.45, 0.6, 0.3]), tiny_data(), epochs=5, batch_size=8, patience=2)
    assert result.epochs_trained == 4 and len(result.epoch_seconds) == 4  # patience 2 stops after epoch 3
    assert all(s >= 0 for s in result.epoch_seconds) and sum(result.epoch_seconds) <= result.train_seconds


def _trial(epochs: int, seconds: list[float], ended: dt.datetime, state: TrialState = TrialState.COMPLETE):
    attrs = {"epochs_trained": epochs, "epoch_seconds": seconds, "n_params": 1000}
    trial = create_trial(
        state=state,
        value=0.1 if state == TrialState.COMPLETE else None,
        params={"depth": 1},
        distributions={"depth": IntDistribution(1, 3)},
        user_attrs=attrs,
    )
    trial.datetime_start, trial.datetime_complete = ended - dt.timedelta(seconds=sum(seconds)), ended
    return trial


def test_a_run_counts_its_own_trials_and_retrainings_and_adds_to_earlier_runs(tmp_path):
    storage = f"sqlite:///{tmp_path / 'l.db'}"
    study = optuna.create_study(storage=storage, study_name="s")
    confirm = optuna.create_study(storage=storage, study_name=confirm_name("s"))
    since = NOW.timestamp()
    study.add_trial(_trial(3, [9.0, 9.0, 9.0], NOW - dt.timedelta(minutes=5)))  # an earlier run's
    study.add_trial(_trial(3, [2.0, 0.5, 0.5], NOW + dt.timedelta(seconds=5)))
    study.add_trial(_trial(1, [1.0], NOW + dt.timedelta(seconds=8), TrialState.PRUNED))
    confirm.add_trial(_trial(2, [1.5, 0.5], NOW + dt.timedelta(seconds=12)))
    assert len(run_timings(study, since)) == 3
    first = record_limit(study, since=since, now=since + 10.0, workers=1)
    assert first["steady_seconds"] == pytest.approx(1.5 + 0.5 + 1.0)
    assert first["ratio"] == pytest.approx(10 / 3, abs=1e-3)
    assert study.user_attrs["limit"] == first
    assert limit_line(first) == "limit: wall 10 s, of which steady epochs 3 s: 3.3x the limit"
    later = since + 3600.0  # a resumed run with two workers that trained nothing new
    second = record_limit(study, since=later, now=later + 4.0, workers=2)
    assert (second["wall_seconds"], second["worker_seconds"], second["runs"]) == (14.0, 18.0, 2)
    assert second["ratio"] == pytest.approx(18 / 3, abs=1e-3) and "x 2 workers" in limit_line(second)
