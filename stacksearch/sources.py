"""Where a study's data comes from: a config's ``benchmark:`` or ``data:`` section -> :class:`SequenceData`.

Example:
    >>> from stacksearch.config import StudyConfig
    >>> config = StudyConfig.model_validate({"benchmark": {"name": "adding", "args": {"n_train": 8}}})
    >>> data_source(config)["benchmark"]["name"]
    'adding'
    >>> load_study_data(config).x_train.shape[0]
    8
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stacksearch import benchmarks
from stacksearch.config import BenchmarkSection, DataSection, StudyConfig
from stacksearch.data import SequenceData, load_csv, load_npz
from stacksearch.exceptions import ConfigError

__all__ = ["load_study_data", "load_data_section", "data_source", "load_data_source"]


def load_study_data(config: StudyConfig) -> SequenceData:
    """The :class:`SequenceData` a study trains on: a benchmark, or the user's data files."""
    return _load_data(config.benchmark, config.data, _base_dir(config))


def _base_dir(config: StudyConfig) -> Path:
    """The folder relative data paths resolve against: the study file's, else the working one."""
    return Path(config.source).parent if config.source else Path.cwd()


def _load_data(benchmark: BenchmarkSection | None, data: DataSection | None, base_dir: str | Path) -> SequenceData:
    if benchmark is not None:
        return benchmarks.load(benchmark.name, **benchmark.args)
    if data is None:
        raise ConfigError("the study file needs a benchmark: or a data: section")
    return load_data_section(data, base_dir)


def data_source(config: StudyConfig) -> dict[str, Any]:
    """Where the study's data comes from, enough to load it again (``stacksearch confirm``)."""
    if config.benchmark is not None:
        return {"benchmark": config.benchmark.model_dump(mode="json")}
    assert config.data is not None  # the config validates that one of the two is given
    return {"data": config.data.model_dump(mode="json"), "base_dir": str(_base_dir(config).resolve())}


def load_data_source(source: dict[str, Any]) -> SequenceData:
    """Load the data a study was run on, from its ``data_source`` user attribute."""
    if "benchmark" in source:
        return _load_data(BenchmarkSection.model_validate(source["benchmark"]), None, Path.cwd())
    return _load_data(None, DataSection.model_validate(source["data"]), source["base_dir"])


def _resolve(path: str, base_dir: str | Path) -> Path:
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else Path(base_dir) / resolved


def load_data_section(section: DataSection, base_dir: str | Path) -> SequenceData:
    """Turn a study file's ``data:`` section into :class:`SequenceData`.

    Relative paths resolve against ``base_dir`` (the study file's folder).

    Example:
        >>> from stacksearch.config import DataSection
        >>> section = DataSection(csv="load.csv", target="kw", window=24)
        >>> data = load_data_section(section, "studies")  # doctest: +SKIP
    """
    if section.path is not None:
        return load_npz(_resolve(section.path, base_dir), task=section.task, metric=section.metric)
    if section.csv is None or section.target is None:
        raise ConfigError("data: give data.path (.npz) or data.csv with data.target")
    return load_csv(
        _resolve(section.csv, base_dir),
        target=section.target,
        features=section.features,
        window=section.window,
        horizon=section.horizon,
        split=section.split,
        time_column=section.time_column,
        metric=section.metric or "mse",
    )
