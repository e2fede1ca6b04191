import optuna
import pytest

from stacksearch.config import validate_config
from stacksearch.exceptions import ConfigError
from stacksearch.search.setup import grid_for, make_pruner, make_sampler
from stacksearch.space import SearchSpace


def _config(**study):
    return validate_config({"benchmark": {"name": "adding"}, "study": study, "training": {"epochs": 9}})


def test_grid_covers_every_depth_without_duplicates():
    grid = grid_for(SearchSpace(depth=(1, 3), units=(8, 40), learning_rate=(0.01, 0.01)))
    assert grid == {"depth": [1, 2, 3], "units": [8, 16, 32, 40], "learning_rate": [0.01]}


def test_grid_refuses_per_layer_widths():
    with pytest.raises(ConfigError, match="grid search needs width_mode shared or iso_params"):
        grid_for(SearchSpace(width_mode="per_layer"))


def test_default_sampler_and_pruner():
    config = _config()
    sampler = make_sampler(config, SearchSpace(width_mode="per_layer"))
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert isinstance(make_pruner(config), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner(_config(pruner="median")), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner(_config(multi_objective=True)), optuna.pruners.NopPruner)
    assert isinstance(make_sampler(_config(sampler="random"), SearchSpace()), optuna.samplers.RandomSampler)


def test_search_defaults_are_the_measured_ones():
    # chosen in benchmarks/search_efficiency.py (docs/speed.md section 1): 4 TPE start-up
    # trials, Hyperband judging no trial before a fifth of its epochs, halving at each rung
    from stacksearch.search.setup import startup_trials

    config = _config(n_trials=50)
    assert make_sampler(config, SearchSpace())._n_startup_trials == 4
    assert [startup_trials(n) for n in (1, 12, 15, 16, 50, 1000)] == [3, 3, 3, 4, 4, 4]
    pruner = make_pruner(config)
    assert (pruner._min_resource, pruner._max_resource, pruner._reduction_factor) == (2, 9, 2)
