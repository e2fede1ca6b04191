"""The confirmation's retrainings in MLflow: a parent run of their own, nested in the search's, one run each."""

from __future__ import annotations

import threading

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from stacksearch.config import StudyConfig
from stacksearch.search import confirming, phases
from stacksearch.search.loop import Deadline, StopReason
from stacksearch.tracking import MLflowTracker

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore::UserWarning")
DISTRIBUTIONS = {"depth": IntDistribution(1, 3), "learning_rate": FloatDistribution(1e-3, 1e-1, log=True)}


def _retrain(trial: optuna.Trial) -> float:
    depth = trial.suggest_int("depth", 1, 3)
    trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True)
    trial.set_user_attr("epochs_trained", 2)
    trial.set_user_attr("history", {"val_loss": [0.5, depth / 10]})
    return depth / 10 + (trial.user_attrs["confirm_seed"] - confirming.SEED_OFFSET) / 1000


def test_each_retraining_is_a_run_under_the_confirmation_parent_nested_in_the_search(tmp_path, sqlite_uri):
    config = StudyConfig.model_validate(
        {
            "benchmark": {"name": "adding"},
            "study": {"name": "s", "storage": f"sqlite:///{tmp_path / 'o.db'}"},
            "tracking": {"tracking_uri": sqlite_uri},
            "confirm": {"top": 2, "seeds": 2},
        }
    )
    study = optuna.create_study(storage=config.storage_url, study_name="s")
    for depth, value in [(1, 0.5), (2, 0.2), (3, 0.4)]:
        study.add_trial(
            create_trial(
                value=value,
                params={"depth": depth, "learning_rate": 0.01},
                distributions=DISTRIBUTIONS,
                user_attrs={"depth": depth, "widths": [8] * depth},
            )
        )
    search = MLflowTracker(sqlite_uri, experiment="s")
    search.setup(study)
    search.close(study)
    phases._record(study, config, True, "target")
    confirm = confirming.open_confirm_study(study)
    confirm.enqueue_trial(params={"depth": 2, "learning_rate": 0.01})  # a surplus trial: no retraining, no run

    reason = confirming.confirm_here(
        study, config, None, stop=threading.Event(), hard=Deadline.after(60), deadline=Deadline(), objective=_retrain
    )

    assert reason is StopReason.TARGET
    client = search.client
    experiment = client.get_experiment_by_name("s")
    runs = client.search_runs([experiment.experiment_id])
    parents = {r.info.run_name: r for r in runs if r.data.tags.get("stacksearch.role") == "parent"}
    assert set(parents) == {"s", "s.confirm"}
    assert parents["s.confirm"].data.tags["mlflow.parentRunId"] == parents["s"].info.run_id
    assert parents["s"].info.status == "FINISHED" and parents["s.confirm"].info.status == "FINISHED"
    retrainings = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents["s.confirm"].info.run_id]
    retrainings = [r for r in retrainings if r.data.tags.get("stacksearch.role") == "trial"]
    assert sorted((r.data.params["source_trial"], r.data.params["confirm_seed"]) for r in retrainings) == [
        ("1", "10000"),
        ("1", "10001"),
        ("2", "10000"),
        ("2", "10001"),
    ]
    assert all(r.info.status == "FINISHED" and "objective" in r.data.metrics for r in retrainings)
    states = [t.state for t in confirm.get_trials(deepcopy=False)]
    assert states.count(TrialState.FAIL) == 1 and len(runs) == 2 + 4  # the surplus trial has no run
