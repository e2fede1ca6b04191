"""One definition each: better/best_of, the metric's Keras key, the trial-state sets, mask_url, the error tree."""

from __future__ import annotations

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

import stacksearch as ss
from stacksearch import exceptions, search, states, storage, tracking
from stacksearch.confirm import best_per_depth, confirm_study
from stacksearch.exceptions import ConfigError, NoCompletedTrialError, StackSearchError
from stacksearch.metrics import METRIC_NAMES, best_of, better, maximizing, metric, ranked
from stacksearch.progress import StudyProgress
from stacksearch.report.trials import collect
from stacksearch.space import SearchSpace
from stacksearch.tracking.runs import improves
from stacksearch.train import monitor_key

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize(
    "direction, maximize",
    [("minimize", False), ("maximize", True), *((d, d.name == "MAXIMIZE") for d in StudyDirection)],
)
def test_better_is_strict_and_follows_the_direction(direction, maximize) -> None:
    if direction == StudyDirection.NOT_SET:
        with pytest.raises(ConfigError, match="unknown direction"):
            better(1.0, 2.0, direction)
        return
    assert maximizing(direction) is maximize
    assert better(2.0, 1.0, direction) is maximize
    assert better(1.0, 2.0, direction) is not maximize
    assert not better(1.0, 1.0, direction)


def test_best_of_and_ranked_put_the_best_first_and_keep_the_first_of_ties() -> None:
    items = [("a", 0.3), ("b", 0.1), ("c", 0.3), ("d", 0.1)]
    value = lambda item: item[1]  # noqa: E731
    assert best_of(items, "minimize", key=value) == ("b", 0.1)
    assert best_of(items, "maximize", key=value) == ("a", 0.3)
    assert best_of([], "maximize") is None
    assert ranked(items, "maximize", key=value) == [("a", 0.3), ("c", 0.3), ("b", 0.1), ("d", 0.1)]
    assert ranked(items, StudyDirection.MINIMIZE, key=value) == [("b", 0.1), ("d", 0.1), ("a", 0.3), ("c", 0.3)]
    with pytest.raises(ConfigError, match="unknown direction 'up'"):
        best_of(items, "up")


def _study(direction: str, values: list[float], **kwargs) -> optuna.Study:
    study = optuna.create_study(direction=direction, **kwargs)
    for i, value in enumerate(values):
        study.add_trial(
            create_trial(
                value=value,
                params={"depth": 1 + i % 2},
                distributions={"depth": optuna.distributions.IntDistribution(1, 2)},
                user_attrs={"depth": 1 + i % 2},
            )
        )
    study.add_trial(create_trial(state=TrialState.PRUNED))
    study.add_trial(create_trial(state=TrialState.FAIL))
    return study


@pytest.mark.parametrize("direction, best", [("minimize", 0.1), ("maximize", 0.9)])
def test_every_caller_picks_the_same_best_for_the_direction(direction: str, best: float) -> None:
    values = [0.5, 0.9, 0.1, 0.6]
    study = _study(direction, values)
    progress = StudyProgress(n_trials=10, direction=direction)
    progress(study, study.trials[-1])
    assert progress.best == best
    assert [t.values[0] for t in best_per_depth(study, top=2)] == [best, 0.6 if direction == "minimize" else 0.5]
    data = collect(study)
    assert data.better(best, 0.5) and not data.better(0.5, best)
    assert improves(study, best - 0.01 if direction == "minimize" else best + 0.01)
    assert not improves(study, best)


def test_improves_in_a_multi_objective_study_reads_the_first_objective() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.add_trial(create_trial(values=[0.7, 100.0]))
    study.add_trial(create_trial(values=[0.8, 900.0]))
    assert improves(study, 0.81) and not improves(study, 0.8)


def test_each_metric_names_its_keras_log_key_once() -> None:
    assert {name: metric(name).monitor for name in METRIC_NAMES} == {
        "mse": "val_mse",
        "mae": "val_mae",
        "smape": "val_smape",
        "accuracy": "val_accuracy",
        "cross_entropy": "val_loss",
    }
    assert [name for name in METRIC_NAMES if metric(name).is_loss] == ["cross_entropy"]
    assert all(monitor_key(name) == metric(name).monitor for name in METRIC_NAMES)


def test_the_compiled_keras_metrics_log_under_the_metric_keys() -> None:
    pytest.importorskip("keras")
    from stacksearch.model import keras_metric

    assert keras_metric("cross_entropy") is None
    assert {name: keras_metric(name).name for name in METRIC_NAMES if name != "cross_entropy"} == {
        name: metric(name).keras_name for name in METRIC_NAMES if name != "cross_entropy"
    }


def test_trial_state_sets_are_named_for_what_they_hold() -> None:
    assert states.FINISHED == (TrialState.COMPLETE, TrialState.PRUNED)
    assert set(states.ENDED) == {s for s in TrialState if s.is_finished()}
    assert search.FINISHED is states.FINISHED


def test_progress_counts_the_finished_trials_only() -> None:
    study = _study("minimize", [0.5, 0.2])
    progress = StudyProgress(n_trials=10, direction="minimize")
    progress(study, study.trials[-1])
    task = progress._progress.tasks[0]
    assert task.completed == 3  # two complete, one pruned; the failed trial does not count


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://me:secret@db:5432/optuna", "postgresql+psycopg://me:***@db:5432/optuna"),
        ("http://me:secret@mlflow:5000", "http://me:***@mlflow:5000"),
        ("https://mlflow.example/api?token=abc&x=1", "https://mlflow.example/api?token=***&x=1"),
        ("postgresql://me@db/optuna?password=pw", "postgresql://me@db/optuna?password=***"),
    ],
)
def test_one_mask_url_for_storage_and_tracking(url: str, shown: str) -> None:
    assert tracking.mask_url is storage.mask_url
    assert storage.mask_url(url) == shown


def test_the_error_tree_follows_optunas() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, StackSearchError)
    assert issubclass(NoCompletedTrialError, ValueError) and issubclass(NoCompletedTrialError, StackSearchError)
    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        assert getattr(ss, name) is error and name in ss.__all__
        assert issubclass(error, StackSearchError) == (name != "TrialRejected")
    with pytest.raises(ValueError, match="unknown metric"):
        metric("r2")


def test_confirming_a_study_without_a_completed_trial_is_the_named_error(tiny_regression) -> None:
    study = optuna.create_study()
    study.add_trial(create_trial(state=TrialState.PRUNED))
    with pytest.raises(NoCompletedTrialError, match="has no completed trial to confirm"):
        confirm_study(study, data=tiny_regression, space=SearchSpace(depth=(1, 2), units=(4, 8)))
