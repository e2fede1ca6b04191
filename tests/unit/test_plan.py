"""The run's budget: parsing ``study.budget`` / ``--budget`` and splitting it between search and confirmation."""

from __future__ import annotations

import doctest
import json
import math
from datetime import datetime

import pytest

import stacksearch.search.plan as plan_module
from stacksearch.exceptions import ConfigError
from stacksearch.search.plan import Budget, Plan, budget_record, confirmation_cost, parse_budget


@pytest.mark.parametrize(
    ("text", "kind", "amount"),
    [
        ("20m", "seconds", 1200.0),
        ("1h30m", "seconds", 5400.0),
        ("90s", "seconds", 90.0),
        ("1h 30m 15s", "seconds", 5415.0),
        (" 2H ", "seconds", 7200.0),
        ("1.5h", "seconds", 5400.0),
        ("45 sec", "seconds", 45.0),
        ("2 hours", "seconds", 7200.0),
        ("10 minutes", "seconds", 600.0),
        ("600", "seconds", 600.0),
        (600, "seconds", 600.0),
        (90.5, "seconds", 90.5),
        ("600 epochs", "epochs", 600),
        ("1 epoch", "epochs", 1),
        ("600epochs", "epochs", 600),
    ],
)
def test_budgets_that_parse(text: str | float, kind: str, amount: float) -> None:
    budget = parse_budget(text)
    assert (budget.kind, budget.amount) == (kind, amount)
    assert parse_budget(str(budget)).amount == pytest.approx(math.ceil(amount))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-5m", "negative"),
        (-3, "negative"),
        ("0m", "zero"),
        (0, "zero"),
        ("0 epochs", "zero"),
        ("20x", "not a duration or an epoch count"),
        ("m", "not a duration or an epoch count"),
        ("30m1h", "not a duration or an epoch count"),
        ("1h1h", "not a duration or an epoch count"),
        ("1h 600 epochs", "not a duration or an epoch count"),
        ("1.5 epochs", "whole number"),
        (True, "not a budget"),
        (None, "not a budget"),
        ([20], "not a budget"),
        (float("nan"), "not a finite budget"),
        (float("inf"), "not a finite budget"),
    ],
)
def test_bad_budgets_name_the_setting_and_the_fix(value: object, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_budget(value)  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith("study.budget / --budget: ") and says in message and "\n" not in message


def test_the_caller_can_name_where_the_budget_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^--budget: 'soon'"):
        parse_budget("soon", where="--budget")


def test_budget_text_is_short() -> None:
    assert [str(Budget("seconds", s)) for s in (59, 60, 61, 3600, 5415, 0.2)] == [
        "59s",
        "1m",
        "1m1s",
        "1h",
        "1h30m15s",
        "1s",
    ]
    assert str(Budget("epochs", 600)) == "600 epochs"


def test_confirmation_cost_counts_runs_epochs_and_wall_time() -> None:
    assert confirmation_cost(3, 3, 10) == plan_module.Cost(9, 90, None)
    assert confirmation_cost(3, 3, 10, 2.0).seconds == 180.0
    assert confirmation_cost(3, 3, 10, 2.0, workers=3).seconds == 60.0
    assert confirmation_cost(3, 3, 10, 2.0, workers=4).seconds == 60.0  # 9 equal runs on 4 workers: 3 rounds
    # whole runs, longest first: three 30 s runs and three 10 s runs on two workers take 60 s
    assert confirmation_cost(2, 3, 10, [3.0, 1.0], workers=2).seconds == 60.0
    assert confirmation_cost(1, 3, 10, 3.0, workers=2).seconds == 60.0  # not 45: a run is not split
    assert confirmation_cost(0, 3, 10, 2.0) == plan_module.Cost(0, 0, 0.0)
    with pytest.raises(ValueError, match="2 seconds-per-epoch estimates for 3 depths"):
        confirmation_cost(3, 3, 10, [1.0, 2.0])
    with pytest.raises(ConfigError, match="^confirm.seeds: -1"):
        confirmation_cost(3, -1, 10)


def test_an_epoch_budget_reserves_the_confirmation_and_searches_the_rest() -> None:
    plan = Plan(parse_budget("600 epochs"), n_depths=4, top=3, seeds=3, epochs=10)
    assert (plan.reserve, plan.search, plan.search_left(505)) == (90.0, 510.0, 5.0)
    assert plan.minimum == Budget("epochs", 4 * 10 + 90)
    Plan(parse_budget("130 epochs"), n_depths=4, epochs=10).check()  # exactly enough
    with pytest.raises(ConfigError) as err:
        Plan(parse_budget("129 epochs"), n_depths=4, epochs=10).check()
    assert str(err.value).startswith("study.budget / --budget: 129 epochs is too small")
    assert str(err.value).endswith("give at least 130 epochs")


def test_a_duration_reserves_the_measured_confirmation_time_with_a_safety_margin() -> None:
    unknown = Plan(parse_budget("20m"), n_depths=4, epochs=10)
    assert unknown.reserve is None and unknown.search is None and unknown.minimum is None
    unknown.check()  # nothing measured yet: nothing to check
    plan = Plan(parse_budget("20m"), n_depths=4, epochs=10, seconds_per_epoch=2.0)
    assert plan.reserve == pytest.approx(180 * 1.2) and plan.search == pytest.approx(1200 - 216)
    assert plan.minimum == Budget("seconds", 80.0 + 216.0)
    parallel = Plan(parse_budget("20m"), n_depths=4, epochs=10, seconds_per_epoch=2.0, workers=3)
    assert parallel.reserve == pytest.approx(60 * 1.2) and parallel.minimum == Budget("seconds", 40.0 + 72.0)
    per_depth = Plan(parse_budget("20m"), n_depths=4, epochs=10, seconds_per_epoch=(1.0, 2.0, 3.0))
    assert per_depth.confirmation.seconds == 180.0
    with pytest.raises(ConfigError, match=r"is too small .* at about 2 s per epoch: give at least 4m56s$"):
        Plan(parse_budget("4m"), n_depths=4, epochs=10, seconds_per_epoch=2.0).check()


def test_fewer_depths_than_top_and_confirmation_off() -> None:
    two = Plan(parse_budget("100 epochs"), n_depths=2, top=3, seeds=3, epochs=5)
    assert two.confirm_depths == 2 and two.reserve == 30.0
    off = Plan(parse_budget("100 epochs"), n_depths=4, top=3, seeds=0, epochs=5)
    assert off.confirm_depths == 0 and off.reserve == 0.0 and off.minimum == Budget("epochs", 20)
    assert off.describe() == "search for the whole budget (100 epochs); no confirmation"
    with pytest.raises(ConfigError, match="^space.depth"):
        Plan(parse_budget("100 epochs"), n_depths=0)


def test_describe_says_the_plan_up_front() -> None:
    start = datetime(2026, 1, 1, 13, 45)
    timed = Plan(parse_budget("20m"), n_depths=4, epochs=10, seconds_per_epoch=2.0)
    assert timed.describe(start) == "search until about 14:01, then confirm 3 depths x 3 seeds (about 3m36s)"
    assert timed.describe() == "search for about 16m24s, then confirm 3 depths x 3 seeds (about 3m36s)"
    assert "once the first trials measure seconds per epoch" in Plan(parse_budget("20m"), n_depths=4).describe()


def test_budget_record_is_plain_json() -> None:
    record = budget_record(Plan(parse_budget("20m"), n_depths=4), spent_seconds=1190.5, spent_epochs=400)
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["planned"]["budget"] == "20m" and record["planned"]["search"] is None


def test_docstring_examples() -> None:
    assert doctest.testmod(plan_module, optionflags=doctest.ELLIPSIS).failed == 0
