"""The run's two phases without training: budget keys, the moving stop, a fair share per depth, the confirmation queue.

Fake finished trials come from ``optuna.trial.create_trial``; the loops run cheap objectives through
Optuna against real SQLite studies (as in test_deadline.py and test_storage.py).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from stacksearch.config import StudyConfig, validate_config
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError
from stacksearch.search import confirming, phases
from stacksearch.search.budget import BudgetDeadline, check_budget, estimate, parse_budget
from stacksearch.search.depths import DepthQuota, best_per_depth, stratified_startup
from stacksearch.search.loop import Deadline, StopReason, _work
from stacksearch.search.pool import read_worker_file, write_worker_config
from stacksearch.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore::UserWarning")
optuna.logging.set_verbosity(optuna.logging.ERROR)
BASE = {"benchmark": {"name": "adding"}}
DISTRIBUTIONS = {"depth": IntDistribution(1, 3), "learning_rate": FloatDistribution(1e-3, 1e-1, log=True)}


def _config(**sections) -> StudyConfig:
    study = {"name": "s", **sections.pop("study", {})}
    return StudyConfig.model_validate({**BASE, "tracking": False, "study": study, **sections})


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'o.db'}"


def _study(tmp_path: Path, name: str = "s", **kwargs) -> optuna.Study:
    storage = open_storage(_url(tmp_path), **({"heartbeat": False} | kwargs))
    return optuna.create_study(storage=storage, study_name=name, load_if_exists=True)


def _done(depth: int, value: float, seconds: float = 6.0, epochs: int = 3, wall: float | None = None, **kw):
    """A finished search trial as a worker leaves it: depth, seconds of training, epochs trained."""
    trial = create_trial(
        value=value,
        params={"depth": depth, "learning_rate": 0.01},
        distributions=DISTRIBUTIONS,
        user_attrs={"depth": depth, "widths": [8] * depth, "train_seconds": seconds, "epochs_trained": epochs},
        **kw,
    )
    if wall is not None:
        trial.datetime_complete = trial.datetime_start + dt.timedelta(seconds=wall)
    return trial


# --- the study file: budget and confirm ---------------------------------------------------------


@pytest.mark.parametrize(
    "given, parsed",
    [("20m", ("seconds", 1200)), ("1h30m", ("seconds", 5400)), ("90s", ("seconds", 90)), (45, ("seconds", 45)),
     ("600 epochs", ("epochs", 600)), ("2m30s", ("seconds", 150)), ("90", ("seconds", 90))],
)  # fmt: skip
def test_a_budget_is_a_duration_a_number_of_seconds_or_epochs(given, parsed):
    config = validate_config({**BASE, "study": {"budget": given}}, "s.yaml")
    budget = parse_budget(config.study.budget)
    assert (budget.kind, budget.amount) == parsed and config.study.budget == given


@pytest.mark.parametrize("given", ["soon", "0", "0 epochs", -5, "", "5 days", True])
def test_a_bad_budget_names_the_key(given):
    with pytest.raises(ConfigError, match=r"^s\.yaml: study\.budget: .*(duration|more than 0|1 epoch)"):
        validate_config({**BASE, "study": {"budget": given}}, "s.yaml")


def test_confirm_is_on_by_default_and_false_turns_it_off():
    default = validate_config(dict(BASE)).confirm
    assert (default.enabled, default.top, default.seeds, default.seed_cap) == (True, 3, 3, 3)  # one look
    assert validate_config({**BASE, "confirm": False}).confirm.enabled is False
    given = validate_config({**BASE, "confirm": {"top": 2, "seeds": 4, "max_seeds": 8}}).confirm
    assert (given.top, given.seeds, given.seed_cap) == (2, 4, 8)


@pytest.mark.parametrize(
    "given, culprit",
    [({"seeds": 1}, "confirm.seeds"), ({"top": 0}, "confirm.top"), ({"seeds": 4, "max_seeds": 3}, "max_seeds (3)"),
     ({"sedes": 3}, "confirm.sedes: unknown key, did you mean 'seeds'?"), ("yes", "confirm:"),
     ({"margin": 0}, "confirm.margin"), ({"margin": True}, "confirm.margin"), ({"margin": ".nan"}, "confirm.margin"),
     ({"alpha": 0.5}, "confirm.alpha"), ({"alpha": "low"}, "confirm.alpha")],
)  # fmt: skip
def test_a_bad_confirm_value_names_the_key(given, culprit):
    with pytest.raises(ConfigError) as info:
        validate_config({**BASE, "confirm": given}, "s.yaml")
    assert culprit in str(info.value) and "\n" not in str(info.value)


def test_a_budget_too_small_names_the_smallest_that_would_do():
    config = _config(space={"depth": [1, 3]}, training={"epochs": 6})
    with pytest.raises(ConfigError, match=r"--budget: '60 epochs' is too small .* give at least 72 epochs"):
        check_budget(parse_budget("60 epochs"), config, seconds_per_epoch=1.0, measured=False, origin="--budget")
    check_budget(parse_budget("72 epochs"), config, seconds_per_epoch=1.0, measured=False)
    with pytest.raises(ConfigError, match=r"give at least 1m30s \(at 1 s per epoch, guessed"):
        check_budget(parse_budget("80s"), config, seconds_per_epoch=1.0, measured=False)  # 12 x (6 + 1) s
    off = _config(space={"depth": [1, 3]}, training={"epochs": 6}, confirm=False)
    check_budget(parse_budget("18 epochs"), off, seconds_per_epoch=1.0, measured=False)  # no confirmation to fit


# --- the confirmation's cost and the moving stop --------------------------------------------------


def test_the_reserve_is_measured_on_the_trials_it_would_retrain():
    trials = [
        _done(1, 0.5, seconds=3.0, wall=4.0),
        _done(1, 0.2, seconds=9.0, wall=10.0),
        _done(2, 0.3, seconds=30.0, wall=31.0),
    ]
    # depth 1's best: 3 s/epoch; depth 2's: 10 s/epoch; each stopped early after 3 of 5 epochs; 1 s over
    found = estimate(trials, slots=2, seeds=3, epochs=5)
    assert found.seconds == pytest.approx(1.25 * 3 * ((3.0 * 3 + 1.0) + (10.0 * 3 + 1.0))) and found.measured
    assert found.epochs == 23 and found.spent_epochs == 9 and found.trial_epochs == 3  # 1.25 x 3 seeds x 6 epochs
    one = estimate(trials[:2], slots=2, seeds=3, epochs=5)  # depth 2 not completed yet: the median rate (2 s/epoch)
    assert one.seconds == pytest.approx(1.25 * 3 * ((3.0 * 3 + 1.0) + (2.0 * 3 + 1.0)))
    none = estimate([], slots=2, seeds=3, epochs=5, guess=0.5)  # nothing measured: the full 5 epochs
    assert none.seconds == 1.25 * 3 * 2 * (0.5 * 5 + 1.0) and not none.measured and none.trial_seconds == 0.0
    assert none.epochs == 2 * 3 * 5


def test_a_retraining_is_reserved_the_epochs_its_trial_trained_at_most_the_full_training():
    short = _done(1, 0.2, seconds=4.0, wall=5.0)  # stopped early after 3 epochs
    full = _done(2, 0.3, seconds=10.0, epochs=9, wall=11.0)  # more epochs than the study trains now: capped at 5
    found = estimate([short, full], slots=2, seeds=2, epochs=5)
    assert found.seconds == pytest.approx(1.25 * 2 * ((4.0 / 3 * 3 + 1.0) + (10.0 / 9 * 5 + 1.0)), abs=1e-3)


def test_the_search_stop_moves_as_trials_finish(tmp_path):
    study = _study(tmp_path)
    now = time.time()
    deadline = BudgetDeadline(
        end=now + 200, slots=2, seeds=2, epochs=5, guess=1.0, depth=(1, 2), storage_url=_url(tmp_path), study_name="s"
    )
    assert deadline.current().seconds == 1.25 * 2 * 2 * (5 + 1)  # guessed reserve, no trial yet
    assert deadline.remaining(now=now) == pytest.approx(200.0)  # but no depth has a trial: the search goes on
    study.add_trial(_done(1, 0.4, seconds=6.0, epochs=3, wall=7.0))  # 2 s per epoch, 1 s over, 7 s per trial
    assert deadline.remaining(now=now) == pytest.approx(200.0)  # depth 2 has no trial: the stop waits for it
    study.add_trial(_done(2, 0.3, seconds=12.0, epochs=3, wall=13.0))  # 4 s per epoch
    reserve = 1.25 * 2 * ((2 * 3 + 1) + (4 * 3 + 1))  # each retraining as long as its trial: 3 epochs
    assert deadline.remaining(now=now) == pytest.approx(200 - reserve - 10.0)  # minus a typical trial (median 10 s)
    study.add_trial(_done(2, 0.1, seconds=30.0, epochs=3, wall=31.0))  # a slower best for depth 2: more reserve
    assert deadline.remaining(now=now) < 200 - reserve - 10.0
    assert deadline.expired(now=now + 200 - reserve) and not deadline.hard().expired()
    again = read_worker_file(
        write_worker_config(_config(study={"storage": _url(tmp_path)}), tmp_path / "w", deadline=deadline)
    )[1]
    assert again == deadline and again.remaining(now=now) == pytest.approx(deadline.remaining(now=now))


def test_a_closed_search_or_the_hard_end_stops_at_once():
    assert BudgetDeadline(end=time.time() + 600, closed=True).expired()
    hard = BudgetDeadline(at=time.time() - 1, end=time.time() + 600)
    assert hard.expired() and hard.hard().expired()


def _cheap(trial: optuna.Trial) -> float:
    depth = trial.suggest_int("depth", 1, 3)
    trial.set_user_attr("depth", depth)
    trial.set_user_attr("epochs_trained", 3)
    trial.set_user_attr("train_seconds", 0.01)
    return depth + trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True)


@pytest.mark.parametrize("n_trials, reason, trials", [(10, StopReason.DEADLINE, 4), (2, StopReason.TARGET, 2)])
def test_with_a_budget_and_n_trials_the_search_stops_at_whichever_comes_first(tmp_path, n_trials, reason, trials):
    study = _study(tmp_path)
    # 20 epochs: 6 reserved (1 depth x 2 seeds x 3 epochs); a trial starts while spent + 3 + 6 <= 20: 4 trials
    deadline = BudgetDeadline(epoch_budget=20, slots=1, seeds=2, epochs=3, storage_url=_url(tmp_path), study_name="s")
    config = _config(study={"n_trials": n_trials})
    assert _work(study, _cheap, config, [], threading.Event(), deadline=deadline) is reason
    assert len(study.trials) == trials


def test_an_epoch_budget_counts_from_the_run_that_gives_it(tmp_path):
    study = _study(tmp_path)
    study.add_trials([_done(1, 0.5, epochs=9), _done(2, 0.4, epochs=9)])
    deadline = BudgetDeadline(epoch_budget=12, epochs=3, epochs_at_start=18, storage_url=_url(tmp_path), study_name="s")
    assert _work(study, _cheap, _config(study={"n_trials": 100}), [], threading.Event(), deadline=deadline)
    assert len(study.trials) == 2 + 4  # 12 new epochs, 3 per trial


# --- every depth gets a fair share ---------------------------------------------------------------


def test_a_new_study_starts_with_one_trial_per_depth_and_samples_the_rest(tmp_path):
    study = _study(tmp_path)
    assert stratified_startup(study, (1, 3)) == 3
    study.optimize(_cheap, n_trials=5)
    assert [t.params["depth"] for t in study.trials[:3]] == [1, 2, 3]
    assert len({t.params["learning_rate"] for t in study.trials[:3]}) == 3  # co-tuned, not fixed
    assert stratified_startup(study, (1, 3)) == 0 and len(study.trials) == 5  # a resumed study is left alone


def test_the_quota_queues_the_lacking_depths_near_the_target_only(tmp_path):
    study = _study(tmp_path)
    study.add_trials([_done(1, 0.5), _done(1, 0.4), create_trial(state=TrialState.PRUNED, params={"depth": 3},
                      distributions={"depth": DISTRIBUTIONS["depth"]})])  # fmt: skip
    quota = DepthQuota((1, 3), n_trials=10, deadline=Deadline())
    assert quota.check(study) == []  # 3 taken of 10: depths 2 and 3 may still come
    assert DepthQuota((1, 3), n_trials=5, deadline=Deadline()).check(study) == [2, 3]
    assert [t.system_attrs["fixed_params"] for t in study.trials if t.state == TrialState.WAITING] == [
        {"depth": 2},
        {"depth": 3},
    ]
    assert DepthQuota((1, 3), n_trials=5, deadline=Deadline()).check(study) == []  # queued ones count
    study.optimize(_cheap, n_trials=2)
    assert {t.params["depth"] for t in study.trials if t.state == TrialState.COMPLETE} == {1, 2, 3}


def test_the_quota_queues_when_the_budget_has_room_for_about_two_trials(tmp_path):
    study = _study(tmp_path)
    study.add_trial(_done(1, 0.5, seconds=6.0, wall=7.0))
    now = time.time()
    roomy = BudgetDeadline(end=now + 1000, slots=1, seeds=2, epochs=3, storage_url=_url(tmp_path), study_name="s")
    tight = BudgetDeadline(end=now + 28, slots=1, seeds=2, epochs=3, storage_url=_url(tmp_path), study_name="s")
    assert DepthQuota((1, 2), n_trials=100, deadline=roomy).check(study) == []
    assert tight.trials_left() <= 2 and DepthQuota((1, 2), n_trials=100, deadline=tight).check(study) == [2]


# --- the confirmation: a queue of retrainings, resumed without repeats ----------------------------


class FakeTraining:
    """A retraining that takes no time: the score depends on depth and seed; every call is counted."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, trial: optuna.Trial) -> float:
        depth = trial.suggest_int("depth", 1, 3)
        trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True)
        seed = trial.user_attrs["confirm_seed"]
        self.calls.append((trial.user_attrs["source_trial"], seed))
        trial.set_user_attr("epochs_trained", 3)
        return depth / 10 + (seed - confirming.SEED_OFFSET) / 1000


def _searched(tmp_path: Path) -> optuna.Study:
    study = _study(tmp_path, heartbeat=True, heartbeat_interval=1, grace_period=2)
    study.add_trials([_done(1, 0.5), _done(2, 0.3), _done(2, 0.2), _done(3, 0.4)])
    phases._record(study, _config(), True, "target")
    return study


def _confirm(study: optuna.Study, training: FakeTraining, config: StudyConfig | None = None, **kw) -> StopReason:
    config = config or _config(confirm={"top": 2, "seeds": 2})
    return confirming.confirm_here(
        study,
        config,
        None,
        stop=threading.Event(),
        hard=Deadline.after(60),
        deadline=Deadline(),
        objective=training,
        **kw,
    )


def test_the_confirmation_retrains_the_best_depths_and_writes_the_reports_attribute(tmp_path):
    study, training = _searched(tmp_path), FakeTraining()
    assert _confirm(study, training) is StopReason.TARGET
    assert sorted(training.calls) == [(2, 10000), (2, 10001), (3, 10000), (3, 10001)]  # depth 2's best, depth 3's
    confirmation = study.user_attrs["confirmation"]
    assert confirmation["seeds"] == 2 and [r["depth"] for r in confirmation["results"]] == [2, 3]
    assert confirmation["results"][0] == {"depth": 2, "widths": [8, 8], "trial": 2, "values": [0.2, 0.201]}
    from stacksearch.report.confirmation import confirmation_summary

    assert confirmation_summary(confirmation, "minimize").best_depth == 2
    assert _confirm(study, training) is StopReason.TARGET and len(training.calls) == 4  # a second run retrains nothing
    assert phases.confirming.outcome(study, _config(confirm={"top": 2, "seeds": 2}))[2]


def test_a_resumed_confirmation_retrains_only_the_missing_seeds(tmp_path):
    study = _searched(tmp_path)
    confirm = confirming.open_confirm_study(study)
    candidates = best_per_depth(study, 2)
    assert confirming.enqueue_missing(confirm, candidates, 2) == 4
    first = FakeTraining()
    confirm.optimize(confirming.Retraining(first), n_trials=1)  # one done before Ctrl-C
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interrupted = confirm.ask()  # a second one interrupted: FAIL, no training reason
    confirm.tell(interrupted, state=TrialState.FAIL)
    killed = confirm.ask()  # a third one whose worker was killed: RUNNING, its heartbeats stopped
    confirm._storage.record_heartbeat(killed._trial_id)
    from tests.support.storage import backdate

    backdate(confirm, killed._trial_id, 10, heartbeat=True)
    assert confirming.collect(confirm, candidates, 2, 2) == (None, 3)
    rest = FakeTraining()
    assert _confirm(study, rest) is StopReason.TARGET
    done_first = first.calls[0]
    assert len(rest.calls) == 3 and done_first not in rest.calls and len(set(rest.calls)) == 3
    states = [t.state for t in confirm.get_trials(deepcopy=False)]
    assert states.count(TrialState.COMPLETE) == 4
    assert all(len(r["values"]) == 2 for r in study.user_attrs["confirmation"]["results"])


def test_a_retraining_queued_twice_is_trained_once(tmp_path):
    study = _searched(tmp_path)
    confirm = confirming.open_confirm_study(study)
    candidates = best_per_depth(study, 1)
    for _ in range(2):  # two workers queue the same seeds at the same moment
        for index in range(2):
            attrs = {"source_trial": 2, "confirm_seed": confirming.SEED_OFFSET + index, "depth": 2}
            confirm.enqueue_trial(params=dict(candidates[0].params), user_attrs=attrs)
    training = FakeTraining()
    assert confirming.run_retrainings(confirm, training, stop=threading.Event()) is StopReason.TARGET
    assert sorted(training.calls) == [(2, 10000), (2, 10001)]
    reasons = [t.user_attrs.get("fail_reason", "") for t in confirm.trials if t.state == TrialState.FAIL]
    assert len(reasons) == 2 and all(r.startswith("duplicate of retraining") for r in reasons)


class NoisyTraining(FakeTraining):
    """Depth 2 scores 0.20 and depth 3 0.20 + ``gap``, each seed off by a fixed noise: the truth is known."""

    NOISE = (0.02, -0.02, 0.0, 0.01, -0.01, 0.015, -0.015, 0.005, -0.005)

    def __init__(self, gap: float) -> None:
        super().__init__()
        self.gap = gap

    def __call__(self, trial: optuna.Trial) -> float:
        super().__call__(trial)
        depth, index = trial.params["depth"], trial.user_attrs["confirm_seed"] - confirming.SEED_OFFSET
        return 0.20 + (self.gap if depth == 3 else 0.0) + self.NOISE[(index + (4 if depth == 3 else 0)) % 9]


@pytest.mark.parametrize(
    ("gap", "max_seeds", "seeds", "call"),
    [
        (0.05, 9, 6, "depth_wins"),  # 3 seeds: undecided, 6 would do; the next look (6) decides
        (0.03, 9, 3, "inconclusive"),  # 3 seeds: about 25 needed, beyond max_seeds: futile, none added
        (0.05, None, 3, "inconclusive"),  # no max_seeds: one look, nothing added
    ],
)
def test_seeds_are_added_while_more_could_decide_the_answer(tmp_path, gap, max_seeds, seeds, call):
    study, training = _searched(tmp_path), NoisyTraining(gap)
    config = _config(confirm={"top": 2, "seeds": 3, "max_seeds": max_seeds, "margin": 0.01})
    assert _confirm(study, training, config) is StopReason.TARGET
    assert study.user_attrs["confirmation"]["seeds"] == seeds and len(training.calls) == 2 * seeds
    assert study.user_attrs["confirm"]["max_seeds"] == (max_seeds or 3)
    from stacksearch.report import study_answer

    answer = study_answer(study).answer
    assert answer.call == call and answer.looks == (1 if max_seeds is None else 3)
    assert confirming.next_seed_count(study) is None  # settled: a resumed run adds nothing


def test_seeds_are_added_only_while_the_budget_has_room(tmp_path):
    study, training = _searched(tmp_path), FakeTraining()
    assert _confirm(study, training) is StopReason.TARGET
    confirm = confirming.open_confirm_study(study)
    assert confirming._room_for(confirm, Deadline(), 4, 3)  # no budget: max_seeds alone caps
    assert not confirming._room_for(confirm, BudgetDeadline(end=time.time() - 1), 4, 3)
    epochs = {"storage_url": _url(tmp_path), "study_name": "s", "epochs": 3}
    assert confirming._room_for(confirm, BudgetDeadline(epoch_budget=12 + 12 + 12, **epochs), 4, 3)
    assert not confirming._room_for(confirm, BudgetDeadline(epoch_budget=12 + 12 + 11, **epochs), 4, 3)


def test_a_study_without_depth_attributes_cannot_be_compared_and_that_is_settled(tmp_path):
    study = _study(tmp_path)
    study.add_trials([create_trial(value=v, params={"x": v}, distributions={"x": FloatDistribution(0, 1)})
                      for v in (0.1, 0.2)])  # fmt: skip
    confirmation, note, settled = confirming.outcome(study, _config())
    assert (
        confirmation is None
        and settled
        and note == ("confirmation: cannot compare depths: no completed trial records its depth")
    )


def test_the_plan_says_the_phases_and_that_the_budget_alone_ends_the_search(tmp_path):
    data = SequenceData(np.zeros((100, 5, 1)), np.zeros(100), np.zeros((20, 5, 1)), np.zeros(20))
    config = _config(
        study={"budget": "10 epochs", "storage": _url(tmp_path)}, training={"epochs": 1}, confirm={"top": 2, "seeds": 2}
    )
    plan = phases.plan_run(config, data)
    assert plan.lines == [
        "plan: search until 6 epochs are spent, then confirm 2 depths x 2 seeds (reserved 4 epochs); budget 10 epochs"
    ]
    assert plan.config.study.n_trials == phases.UNLIMITED and config.study.n_trials == 20
    assert plan.config.study.trial_target is None and plan.config.study.described()["n_trials"] is None
    assert not (tmp_path / "o.db").exists()  # planning stores nothing
    capped = _config(study={"budget": "10 epochs", "n_trials": 5}, training={"epochs": 1}, confirm=False)
    line = phases.plan_run(capped, data).lines[0]
    assert "or 5 finished trials, whichever comes first" in line and "no confirmation" in line
    assert phases.plan_run(capped, data).config.study.n_trials == 5


def test_run_on_a_study_of_other_code_says_it_cannot_compare_and_ends_0(workdir, capsys):
    from stacksearch.cli import main
    from tests.support.studies import tiny_study

    path = tiny_study(workdir, name="theirs", n_trials=2)
    path.write_text(path.read_text().replace("confirm: false", "confirm: {top: 2, seeds: 2}"))
    theirs = optuna.create_study(study_name="theirs", storage="sqlite:///stacksearch.db")
    theirs.add_trials([create_trial(value=v, params={"x": v}, distributions={"x": FloatDistribution(0, 1)})
                       for v in (0.1, 0.2)])  # fmt: skip
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "confirmation: cannot compare depths: no completed trial records its depth" in out
    assert len(theirs.trials) == 2  # nothing trained, nothing queued


def test_a_resumed_run_with_the_same_budget_goes_to_the_confirmation_and_another_reopens_the_search(tmp_path):
    data = SequenceData(np.zeros((100, 5, 1)), np.zeros(100), np.zeros((20, 5, 1)), np.zeros(20))
    study = _study(tmp_path)
    study.add_trials([_done(1, 0.5), _done(2, 0.4)])
    config = _config(study={"budget": "90s", "storage": _url(tmp_path)}, confirm={"top": 2, "seeds": 2})
    phases._record(study, config, True, "budget")
    same = phases.plan_run(config, data)
    assert same.closed and same.deadline.expired() and not phases.hard_end(same.deadline).expired()
    assert same.lines == ["plan: the search ended under budget 90s in an earlier run; confirm 2 depths x 2 seeds, "
                          "only what is missing"]  # fmt: skip
    config.study.budget = "2m"
    other = phases.plan_run(config, data)
    assert not other.closed and not other.deadline.expired()
    assert other.lines[1] == "resuming with budget 2m (the search had ended under 90s): the new budget applies from now"
