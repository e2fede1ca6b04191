"""The settings table: every row obeys flag > environment > study file > default, through the CLI and load_config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacksearch.cli import _flags, build_parser, main
from stacksearch.config import StudyConfig, load_config
from stacksearch.exceptions import ConfigError
from stacksearch.settings import SETTINGS, Setting, choose, resolve

ROOT = Path(__file__).parents[2]
ROWS = list(SETTINGS.values())


def _layers(setting: Setting) -> list[str]:
    """The layers a row has, highest first."""
    return [*(["flag"] if setting.flag else []), *(["environment"] if setting.env else []), "file"]


def _values(setting: Setting, count: int) -> list[Any]:
    """``count`` different valid values, the row's samples first (a switch's own value leads)."""
    values: list[Any] = []
    for value in (*setting.samples, setting.default):
        if value not in values:
            values.append(value)
    assert len(values) >= count, f"{setting.name}: add samples so that {count} layers can differ"
    return values[:count]


CASES = [(s, layers[i:]) for s in ROWS for layers in [_layers(s)] for i in range(len(layers))]


@pytest.mark.parametrize("setting", ROWS, ids=lambda s: s.name)
def test_each_row_names_a_real_key_flag_and_samples(setting: Setting) -> None:
    assert setting.field in StudyConfig.model_fields[setting.section].annotation.model_fields
    assert setting.samples and setting.samples[0] != setting.default
    if setting.switch is not None:
        assert setting.samples[0] == setting.switch


def test_names_flags_and_variables_are_unique() -> None:
    for column in ("flag", "env", "key"):
        given = [getattr(s, column) for s in ROWS if getattr(s, column)]
        assert len(given) == len(set(given)), column


@pytest.mark.parametrize("setting", ROWS, ids=lambda s: s.name)
def test_resolve_takes_flag_then_environment_then_file_then_default(setting: Setting) -> None:
    assert choose(setting.name, env={}) == (setting.default, "default", "default")
    for top in range(len(_layers(setting))):
        layers = _layers(setting)[top:]
        given = dict(zip(layers, _values(setting, len(layers))))
        env = {setting.env: given["environment"]} if "environment" in given else {}
        choice = choose(setting.name, flag=given.get("flag"), file=given.get("file"), env=env)
        assert (choice.value, choice.layer) == (given[layers[0]], layers[0])


def _through_cli(setting: Setting, given: dict[str, Any], folder: Path) -> Any:
    """The setting's value after ``stacksearch run`` flags, the environment and a study file."""
    raw: dict[str, Any] = {"benchmark": {"name": "adding"}}
    if "file" in given:
        raw[setting.section] = {setting.field: given["file"]}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    argv = ["run", str(path)]
    if "flag" in given:
        argv += [setting.flag] if setting.switch is not None else [setting.flag, str(given["flag"])]
    env = {setting.env: str(given["environment"])} if "environment" in given else {}
    config = load_config(path, env=env, **_flags(build_parser().parse_args(argv)))
    return getattr(getattr(config, setting.section), setting.field)


@pytest.mark.parametrize("setting, layers", CASES, ids=[f"{s.name}-{'+'.join(layers)}" for s, layers in CASES])
def test_each_row_takes_the_highest_layer_given_through_cli_and_study_file(
    setting: Setting, layers: list[str], tmp_path: Path
) -> None:
    given = dict(zip(layers, _values(setting, len(layers))))
    assert _through_cli(setting, given, tmp_path) == given[layers[0]]


@pytest.mark.parametrize("setting", ROWS, ids=lambda s: s.name)
def test_a_file_without_the_key_gets_the_tables_default(setting: Setting, tmp_path: Path) -> None:
    value = _through_cli(setting, {}, tmp_path)
    assert value in (None, setting.default)  # None: the config leaves it to the table's default
    assert resolve(setting.name, file=value, env={}) == setting.default


def test_a_bad_value_names_the_flag_or_variable_that_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("benchmark: {name: adding}\n")
    with pytest.raises(ConfigError, match="--workers=0"):
        load_config(path, env={}, workers=0)
    assert load_config(path, env={"KERAS_BACKEND": "theano"}, backend="jax").backend == "jax"  # the flag wins


def test_no_module_but_settings_reads_a_table_variable() -> None:
    names = "|".join(re.escape(s.env) for s in ROWS if s.env)
    reader = re.compile(rf"""(environ\.get\(|environ\[|getenv\(|environ\.setdefault\()\s*["']({names})["']""")
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "stacksearch").rglob("*.py"))
        if path.name != "settings.py"
        for match in reader.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_readme_overrides_paragraph_lists_every_variable() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("Overrides:") :].split("\n\n")[0]
    assert [s.env for s in ROWS if s.env and f"`{s.env}`" not in paragraph] == []


def test_storage_commands_take_the_flag_over_the_environment(workdir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STACKSEARCH_STORAGE", f"sqlite:///{workdir / 'env.db'}")
    assert main(["studies"]) == 0
    assert "env.db" in capsys.readouterr().out
    assert main(["studies", "--storage", f"sqlite:///{workdir / 'flag.db'}"]) == 0
    out = capsys.readouterr().out
    assert "flag.db" in out and "env.db" not in out


def test_library_tracker_uses_its_argument_then_mlflow_tracking_uri(workdir: Path, monkeypatch) -> None:
    from stacksearch.tracking import MLflowTracker

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'env.db'}")
    assert MLflowTracker().tracking_uri.endswith("env.db")
    assert MLflowTracker(f"sqlite:///{workdir / 'mine.db'}").tracking_uri.endswith("mine.db")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert MLflowTracker().tracking_uri == "sqlite:///mlflow.db"
