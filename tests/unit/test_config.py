from pathlib import Path

import pytest

from stacksearch.config import DEFAULT_STORAGE, StudyConfig, load_config, validate_config
from stacksearch.exceptions import ConfigError

BASE = {"benchmark": {"name": "adding"}}


def _error(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "study.yaml")
    return str(info.value)


def test_defaults_fill_a_minimal_file():
    config = validate_config(dict(BASE), "s.yaml")
    assert config.study.sampler == "tpe" and config.study.pruner == "hyperband"
    assert config.storage_url == DEFAULT_STORAGE
    assert config.tracking_uri == "sqlite:///mlflow.db"
    assert config.study_name == "s"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({**BASE, "space": {"dept": [1, 2]}}, "study.yaml: space.dept: unknown key, did you mean 'depth'?"),
        ({**BASE, "studdy": {}}, "study.yaml: studdy: unknown key, did you mean 'study'?"),
        ({**BASE, "space": {"depth": [0, 2]}}, "study.yaml: space.depth: min 0 is below 1"),
        ({**BASE, "space": {"depth": [3, 2]}}, "study.yaml: space.depth: min 3 > max 2"),
        ({**BASE, "space": {"units": [8, "abc"]}}, "study.yaml: space.units.1:"),
        ({"benchmark": {"name": "addin"}}, "benchmark.name: unknown benchmark 'addin'; did you mean 'adding'?"),
        ({"benchmark": {"name": "adding", "args": {"lenght": 5}}}, "benchmark.args.lenght: unknown argument"),
        ({**BASE, "study": {"n_trials": 0}}, "study.yaml: study.n_trials:"),
        ({**BASE, "study": {"sampler": "bayes"}}, "study.yaml: study.sampler:"),
        ({}, "give exactly one of 'benchmark'"),
        ({**BASE, "space": {"width_mode": "wide"}}, "study.yaml: space.width_mode:"),
        ({**BASE, "space": {"learning_rate": [0.1, 0.01]}}, "space.learning_rate: min 0.1 > max 0.01"),
        ({**BASE, "space": {"units_step": "8"}}, "study.yaml: space.units_step:"),
        ({**BASE, "space": {"units_step": True}}, "study.yaml: space.units_step:"),
        ({**BASE, "space": {"units": [8, 60], "units_step": 8}}, "space.units_step: 8 does not divide"),
    ],
)
def test_bad_values_name_file_key_and_value(raw, expected):
    assert expected in _error(raw)


def test_units_error_shows_the_value():
    assert "'abc'" in _error({**BASE, "space": {"units": [8, "abc"]}})


def test_units_step_reaches_the_space_and_is_left_out_of_the_stored_file_when_unset():
    stepped = validate_config({**BASE, "space": {"units": [8, 64], "units_step": 8}}, "s.yaml")
    assert stepped.space.to_space().units_step == 8
    assert stepped.space.model_dump()["units_step"] == 8
    assert "units_step" not in validate_config(dict(BASE), "s.yaml").space.model_dump()


def test_tracking_false_turns_tracking_off():
    assert validate_config({**BASE, "tracking": False}).tracking.enabled is False


def test_precedence_flag_over_environment_over_file(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("benchmark: {name: adding}\nstudy: {storage: 'sqlite:///file.db'}\n")
    assert load_config(path, env={}).storage_url == "sqlite:///file.db"
    env = {"STACKSEARCH_STORAGE": "sqlite:///env.db", "MLFLOW_TRACKING_URI": "sqlite:///m.db", "KERAS_BACKEND": "jax"}
    config = load_config(path, env=env)
    assert (config.storage_url, config.tracking_uri, config.backend) == ("sqlite:///env.db", "sqlite:///m.db", "jax")
    flagged = load_config(path, env=env, storage="sqlite:///flag.db", backend="torch", n_trials=7)
    assert (flagged.storage_url, flagged.backend, flagged.study.n_trials) == ("sqlite:///flag.db", "torch", 7)


def test_bad_environment_value_is_named(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("benchmark: {name: adding}\n")
    with pytest.raises(ConfigError, match="KERAS_BACKEND='theano'"):
        load_config(path, env={"KERAS_BACKEND": "theano"})


def test_malformed_yaml_names_line(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("study:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"s.yaml: line \d+, column \d+: malformed YAML"):
        load_config(path, env={})


def test_shipped_studies_validate():
    for path in sorted(Path(__file__).parents[2].joinpath("studies").glob("*.yaml")):
        load_config(path, env={})


def test_backend_auto_is_the_default_and_picks_per_machine(monkeypatch):
    import importlib.util

    from stacksearch.backend import auto_backend

    config = StudyConfig.model_validate({"benchmark": {"name": "adding"}})
    assert config.backend == "auto"
    installed = {"tensorflow", "jax"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name in installed else None)
    assert auto_backend(gpus=[]) == "tensorflow"  # CPU: the whole search was faster on TensorFlow
    assert auto_backend(gpus=["0"]) == "jax"  # GPU: JAX
    installed.discard("jax")
    assert auto_backend(gpus=["0"]) == "tensorflow"
    installed.clear()
    with pytest.raises(ConfigError, match="no Keras backend is installed"):
        auto_backend(gpus=[])


def test_select_backend_auto_keeps_a_loaded_keras_and_refuses_a_switch():
    import keras

    from stacksearch.backend import select_backend

    active = keras.backend.backend()
    assert select_backend("auto") == active and select_backend(None) == active
    other = "jax" if active != "jax" else "tensorflow"
    with pytest.raises(ConfigError, match=f"cannot switch to '{other}'"):
        select_backend(other)
