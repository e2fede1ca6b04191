"""The three-way answer: its error rates on cases whose truth is known by construction, and its edges."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stacksearch.exceptions import ConfigError
from stacksearch.report.verdict_json import FIELDS, verdict_json
from stacksearch.stats.answer import MAX_SEEDS_ESTIMATE, depth_answer
from stacksearch.stats.margin import default_margin
from stacksearch.stats.sequential import SequentialDesign, look_alpha, more_seeds_needed
from stacksearch.stats.width_answer import width_answer

ALPHA = 0.05


def _slack(n: int, rate: float = ALPHA) -> float:
    """Three Monte Carlo standard errors of a rate estimated from ``n`` cases."""
    return 3 * math.sqrt(rate * (1 - rate) / n)


def _cases(rng: np.random.Generator, means: list[float], sd: float, seeds: int, n: int) -> list[dict[int, list[float]]]:
    draws = rng.normal(means, sd, size=(n, seeds, len(means)))
    return [{d + 1: list(case[:, d]) for d in range(len(means))} for case in draws]


def test_equal_depths_give_a_false_winner_at_most_alpha_of_the_time_even_with_no_margin() -> None:
    cases = _cases(np.random.default_rng(0), [0.5, 0.5], 0.05, seeds=3, n=2000)
    answers = [depth_answer(case, "minimize", margin=0.0) for case in cases]
    rate = np.mean([a.call == "depth_wins" for a in answers])
    assert rate <= ALPHA + _slack(2000)
    # the selection effect it guards against: testing only the data-chosen best at alpha
    naive = np.mean([all(t.p_value < ALPHA for t in a.tests if t.name == "superiority") for a in answers])
    assert naive > ALPHA + 0.005


def test_three_equal_depths_with_a_small_margin_rarely_name_a_winner() -> None:
    cases = _cases(np.random.default_rng(1), [0.5, 0.5, 0.5], 0.05, seeds=3, n=600)
    rate = np.mean([depth_answer(case, "minimize", margin=0.005).call == "depth_wins" for case in cases])
    assert rate <= ALPHA + _slack(600)


def test_a_gap_exactly_at_the_margin_is_called_equivalent_at_most_alpha_of_the_time() -> None:
    cases = _cases(np.random.default_rng(2), [0.50, 0.51], 0.005, seeds=5, n=600)
    rate = np.mean([depth_answer(case, "minimize", margin=0.01).call == "equivalent" for case in cases])
    assert rate <= ALPHA + _slack(600)


def test_a_clearly_better_depth_wins_and_equal_depths_are_equivalent() -> None:
    rng = np.random.default_rng(3)
    wins = [depth_answer(c, "minimize", margin=0.02) for c in _cases(rng, [0.40, 0.30, 0.40], 0.01, 3, 200)]
    assert np.mean([a.call == "depth_wins" and a.winner == 2 for a in wins]) >= 0.9
    ties = [depth_answer(c, "minimize", margin=0.02) for c in _cases(rng, [0.30, 0.30, 0.30], 0.002, 3, 200)]
    assert np.mean([a.call == "equivalent" and a.winner is None for a in ties]) >= 0.9


def test_maximize_mirrors_minimize() -> None:
    scores = {1: [0.80, 0.81, 0.82], 2: [0.90, 0.91, 0.92], 3: [0.70, 0.71, 0.69]}
    up = depth_answer(scores, "maximize", margin=0.02)
    down = depth_answer({d: [-v for v in s] for d, s in scores.items()}, "minimize", margin=0.02)
    assert (up.call, up.winner) == (down.call, down.winner) == ("depth_wins", 2)
    assert [t.p_value for t in up.tests] == pytest.approx([t.p_value for t in down.tests])


def test_the_seed_estimate_gives_about_the_power_it_promises() -> None:
    mean1, mean2, sd, margin = 0.50, 0.45, 0.02, 0.02
    exact = {1: [mean1 - sd, mean1, mean1 + sd], 2: [mean2 - sd, mean2, mean2 + sd]}  # sample sd = sd
    first = depth_answer(exact, "minimize", margin=margin)
    assert first.call == "inconclusive" and first.seeds_needed is not None
    n = first.seeds_needed
    assert 3 < n <= MAX_SEEDS_ESTIMATE and f"about {n} seeds per depth ({n - 3} more)" in first.next_step
    cases = _cases(np.random.default_rng(4), [mean1, mean2], sd, seeds=n, n=300)
    power = np.mean([depth_answer(c, "minimize", margin=margin).call == "depth_wins" for c in cases])
    assert power >= 0.7  # promised 80%, at a conservative level


def test_an_inconclusive_reason_names_the_leader_the_gap_and_the_margin() -> None:
    a = depth_answer({1: [0.30, 0.32, 0.34], 2: [0.296, 0.33, 0.31]}, "minimize", margin=0.002, metric="mse")
    assert a.call == "inconclusive" and a.winner is None
    assert a.reason.startswith("Depth 2 leads depth 1 by 0.008 ± ") and "mse (95% interval)" in a.reason
    assert "margin 0.002" in a.reason and a.next_step


def test_an_inconclusive_reason_names_the_pair_that_blocks_equivalence_when_the_leaders_are_level() -> None:
    # depths 1 and 2 at the ceiling on every seed, depth 3 below: not equivalent, yet the leading pair is level
    answer = depth_answer({1: [1.0, 1.0, 1.0], 2: [1.0, 1.0, 1.0], 3: [0.9, 1.0, 0.95]}, "maximize", 0.0235)
    assert answer.call == "inconclusive"
    assert answer.reason.startswith("Depth 1 leads depth 2 by 0 ")
    assert "(the pair farthest from equivalence: depth 1 leads depth 3 by 0.05 " in answer.reason
    assert "compare depths 1, 2 alone" in answer.next_step
    plain = depth_answer({1: [0.80, 0.90, 0.85], 2: [0.86, 0.80, 0.90]}, "maximize", margin=0.01)
    assert "farthest" not in plain.reason


def test_one_depth_no_depth_and_too_few_seeds() -> None:
    assert depth_answer({2: [0.3, 0.4]}, "minimize", 0.01).call == "single_depth"
    empty = depth_answer({}, "minimize", 0.01)
    assert empty.call == "inconclusive" and empty.compared_depths == ()
    thin = depth_answer({1: [0.3, 0.31, 0.32], 2: [0.2, float("nan"), float("inf")]}, "minimize", 0.01)
    assert thin.call == "inconclusive" and thin.tests == () and thin.seeds_needed == 2
    assert "depth 2 (1)" in thin.reason and "dropped: depth 2: 2" in thin.reason
    assert thin.depth(2).seeds == 1 and thin.depth(2).dropped == 2 and thin.depth(2).low is None


def test_identical_seeds_give_finite_statistics_and_follow_the_gap() -> None:
    apart = depth_answer({1: [0.3] * 3, 2: [0.2] * 3}, "minimize", margin=0.01)
    same = depth_answer({1: [0.2] * 3, 2: [0.2] * 3}, "minimize", margin=0.01)
    assert (apart.call, apart.winner, same.call) == ("depth_wins", 2, "equivalent")
    for test in apart.tests + same.tests:
        assert all(math.isfinite(x) for x in (test.statistic, test.p_value, test.adjusted_p))
    assert same.depth(1).low == same.depth(1).high == 0.2


def test_nan_scores_are_dropped_and_said() -> None:
    a = depth_answer({1: [0.30, 0.31, 0.32, float("nan")], 2: [0.20, 0.21, 0.22]}, "minimize", margin=0.02)
    assert a.call == "depth_wins" and a.depth(1).seeds == 3 and "dropped: depth 1: 1" in a.reason


def test_more_looks_need_stronger_evidence() -> None:
    scores = {1: [0.30, 0.32, 0.34], 2: [0.24, 0.25, 0.26]}
    one, five = depth_answer(scores, "minimize", 0.01), depth_answer(scores, "minimize", 0.01, looks=5)
    assert one.call == "depth_wins" and five.call == "inconclusive"
    assert five.tests[0].adjusted_p == pytest.approx(min(1.0, 5 * one.tests[0].adjusted_p))


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": float("nan")}, "margin"),
        ({"alpha": 0.7}, "alpha"),
        ({"looks": 0}, "looks"),
    ],
)
def test_bad_settings_are_config_errors_naming_them(kwargs: dict, where: str) -> None:
    with pytest.raises(ConfigError, match=f"^{where}: "):
        depth_answer({1: [0.1, 0.2], 2: [0.1, 0.2]}, "minimize", **{"margin": 0.01, **kwargs})


def test_default_margin_is_a_fraction_of_the_learned_gap_with_a_stated_fallback() -> None:
    assert default_margin(1.0, 0.2).value == pytest.approx(0.04)
    assert default_margin(0.5, 0.9, direction="maximize").value == pytest.approx(0.02)
    assert default_margin(1.0, 0.2, fraction=0.1).rule.startswith("10% of the gap")
    missing = default_margin(None, 0.2)
    assert missing.value == pytest.approx(0.01) and "no trivial baseline" in missing.rule
    unlearned = default_margin(0.1, 0.2)
    assert unlearned.value == pytest.approx(0.01) and "not worse than the best" in unlearned.rule
    assert default_margin(None, 0.0).value == 0.0
    with pytest.raises(ConfigError, match="margin fraction"):
        default_margin(1.0, 0.2, fraction=1.5)


def test_width_answer_calls_each_way_and_keeps_alpha_under_the_null() -> None:
    assert width_answer([(0.2, 0.3), (0.22, 0.31), (0.21, 0.33)], "minimize", 0.01).call == "deeper_wins"
    assert width_answer([(0.3, 0.2), (0.31, 0.22), (0.33, 0.21)], "minimize", 0.01).call == "wider_wins"
    tied = [(0.3, 0.3001), (0.3, 0.2999), (0.3002, 0.3), (0.3, 0.3)]
    assert width_answer(tied, "minimize", 0.01).call == "equivalent"
    assert width_answer([(0.3, 0.2)], "minimize", 0.01).call == "inconclusive"
    assert width_answer([(float("nan"), 0.2)], "minimize", 0.01).call == "no_bands"
    rng = np.random.default_rng(5)
    calls = [width_answer(list(rng.normal(0.3, 0.02, size=(5, 2))), "minimize", 0.0).call for _ in range(1000)]
    assert np.mean([c in ("deeper_wins", "wider_wins") for c in calls]) <= ALPHA + _slack(1000)


def test_sequential_design_schedule_and_stopping() -> None:
    design = SequentialDesign(initial=3, max_seeds=10, max_looks=3)
    assert design.schedule == (3, 6, 10) and design.looks == 3 and design.alpha_per_look == look_alpha(ALPHA, 3)
    assert SequentialDesign(initial=3, max_seeds=4, max_looks=5).schedule == (3, 4)
    won = depth_answer({1: [0.3, 0.31, 0.32], 2: [0.2, 0.21, 0.22]}, "minimize", 0.02, looks=3)
    assert design.next_seeds(won) == {}
    hopeless = depth_answer({1: [0.3, 0.4, 0.2], 2: [0.31, 0.41, 0.21]}, "minimize", 0.001, looks=3)
    assert hopeless.seeds_needed is None and design.next_seeds(hopeless) == {}
    with pytest.raises(ValueError, match="looks=3"):
        design.next_seeds(depth_answer({1: [0.3, 0.31], 2: [0.2, 0.25]}, "minimize", 0.02))
    with pytest.raises(ConfigError, match="confirm.max_seeds"):
        SequentialDesign(initial=5, max_seeds=3)


def test_adding_seeds_by_the_design_keeps_the_false_winner_rate_at_alpha() -> None:
    rng = np.random.default_rng(6)
    design = SequentialDesign(initial=3, max_seeds=9, max_looks=3)
    false_wins, added = 0, 0
    for _ in range(600):
        pool = rng.normal(0.5, 0.05, size=(9, 2))
        n = design.initial
        while True:
            answer = depth_answer({1: list(pool[:n, 0]), 2: list(pool[:n, 1])}, "minimize", 0.0, looks=design.looks)
            more = more_seeds_needed(answer, design.max_seeds, initial=3, looks=3)
            if not more:
                break
            n += more[1]
            added += 1
        false_wins += answer.call == "depth_wins"
    assert added > 0  # the design did look more than once
    assert false_wins / 600 <= ALPHA + _slack(600)


def test_verdict_json_has_the_design_fields_and_no_nan() -> None:
    answer = depth_answer({1: [0.3, float("nan"), 0.31], 2: [0.2, 0.2, 0.2], 4: [0.5]}, "minimize", 0.01)
    width = width_answer([(0.2, 0.3), (0.21, 0.3)], "minimize", 0.01)
    budget = {"planned": {"budget": "20m", "confirmation_seconds": float("nan")}, "spent": {"seconds": 12.5}}
    record = verdict_json(answer, width, budget)
    assert tuple(record) == FIELDS
    text = json.dumps(record, allow_nan=False)
    assert json.loads(text) == record
    assert record["call"] == "inconclusive" and record["winner"] is None and record["compared_depths"] == [1, 2, 4]
    depth1 = record["depths"][0]
    assert depth1["seeds"] == 2 and depth1["dropped"] == 1 and len(depth1["interval"]) == 2
    assert record["depths"][2]["interval"] is None and record["budget"]["planned"]["confirmation_seconds"] is None
    assert record["width_call"]["call"] == width.call and record["width_call"]["bands"] == 2
    assert verdict_json(answer, None, budget)["width_call"] is None
    won = verdict_json(depth_answer({1: [0.3] * 3, 2: [0.2] * 3}, "minimize", 0.01), None, budget)
    assert won["winner"] == 2 and all(t["p_value"] is not None for t in won["tests"])
