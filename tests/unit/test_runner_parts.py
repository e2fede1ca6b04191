import optuna
import pytest

from stacksearch.config import validate_config
from stacksearch.exceptions import ConfigError
from stacksearch.runner import grid_for, make_pruner, make_sampler
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
