"""Study files: YAML validated into a typed :class:`StudyConfig`, with overrides.

Precedence: CLI flag > environment > study file > default, for the settings listed in
:data:`stacksearch.settings.SETTINGS` (``STACKSEARCH_STORAGE``, ``MLFLOW_TRACKING_URI``,
``KERAS_BACKEND``, ``STACKSEARCH_ARTIFACTS``).

Example:
    >>> cfg = StudyConfig.model_validate({"benchmark": {"name": "adding"}, "study": {"name": "demo"}})
    >>> cfg.study.sampler, cfg.study.pruner, cfg.training.epochs
    ('tpe', 'hyperband', 10)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from stacksearch.durations import parse_budget
from stacksearch.exceptions import ConfigError
from stacksearch.sections import ConfirmSection, ReportSection, Section, TrackingSection, TrainingSection
from stacksearch.settings import (
    DEFAULT_BACKEND,
    DEFAULT_STORAGE,
    DEFAULT_TRACKING_URI,
    GRACE_PERIOD,
    HEARTBEAT_INTERVAL,
    N_TRIALS,
    SEED,
    SETTINGS,
    WORKERS,
    choose,
)
from stacksearch.space import SearchSpace
from stacksearch.validation import describe_error

__all__ = ["StudyConfig", "load_config", "BACKENDS", "DEFAULT_STORAGE", "DEFAULT_TRACKING_URI", "UNLIMITED"]

UNLIMITED = 1_000_000  # n_trials under a budget given without n_trials: the budget ends the search

BACKENDS = ("tensorflow", "jax", "torch")


class StudySection(Section):
    """How the Optuna study runs: name, size, sampler, pruner and storage."""

    name: str | None = None
    n_trials: int = Field(N_TRIALS, ge=1)
    timeout: float | None = Field(None, gt=0)
    budget: str | float | None = None
    seed: int | None = SEED
    storage: str | None = None
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    pruner: Literal["hyperband", "median", "none"] = "hyperband"
    multi_objective: bool = False
    workers: int = Field(WORKERS, ge=1)
    recycle_after: int | Literal["auto"] | None = "auto"
    heartbeat_interval: int = Field(HEARTBEAT_INTERVAL, ge=1)
    grace_period: int = Field(GRACE_PERIOD, ge=1)
    checkpoints: bool = True
    artifacts: str | None = None

    @field_validator("budget", mode="before")
    @classmethod
    def _a_budget(cls, value: Any) -> Any:
        parse_budget(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("recycle_after", mode="before")
    @classmethod
    def _trials_auto_or_null(cls, value: Any) -> Any:
        if value is None or value == "auto" or (type(value) is int and value >= 1):
            return value
        raise ValueError("give a number of trials (1 or more), auto or null")

    @model_validator(mode="after")
    def _grace_after_heartbeat(self) -> StudySection:
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(
                f"study.grace_period ({self.grace_period} s) must be longer than study.heartbeat_interval "
                f"({self.heartbeat_interval} s), or live trials are failed as stale"
            )
        return self

    @property
    def trial_target(self) -> int | None:
        """The finished search trials asked for; None when only the budget ends the search.

        Example:
            >>> StudySection(n_trials=UNLIMITED).trial_target is None, StudySection(n_trials=8).trial_target
            (True, 8)
        """
        return None if self.n_trials == UNLIMITED else self.n_trials

    def described(self) -> dict[str, Any]:
        """The section as JSON for the study's records (MLflow, study attributes): no stand-in trial target.

        Example:
            >>> StudySection(n_trials=UNLIMITED, budget="2m").described()["n_trials"] is None
            True
        """
        return {**self.model_dump(mode="json"), "n_trials": self.trial_target}


class BenchmarkSection(Section):
    """A built-in benchmark by name, with its loader's arguments."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class DataSection(Section):
    """The user's own data: an ``.npz`` archive or a CSV time series.

    For ``csv``: ``target`` (a column or a list) is forecast ``horizon`` rows ahead from
    each ``window`` of rows of the targets and ``features``; rows are split in time order
    by ``split`` (train, validation, test); ``time_column``, if given, must increase in
    regular steps. Relative paths resolve against the study file's folder.
    """

    path: str | None = None
    task: Literal["regression", "classification", "sequence_labelling"] = "regression"
    metric: str | None = None
    csv: str | None = None
    target: str | list[str] | None = None
    features: list[str] | None = None
    window: int = Field(48, ge=1)
    horizon: int = Field(1, ge=1)
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    time_column: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        if (self.path is None) == (self.csv is None):
            raise ValueError("give exactly one of data.path (.npz) or data.csv")
        if self.csv is not None and self.target is None:
            raise ValueError("data.csv needs data.target: the column(s) to forecast")
        if self.csv is not None and self.task != "regression":
            raise ValueError("data.csv is a forecasting (regression) task; remove data.task or set it to regression")
        if self.csv is None and (self.target is not None or self.features is not None or self.time_column is not None):
            raise ValueError("data.target, data.features and data.time_column apply to data.csv only")
        if self.csv is not None and self.metric not in (None, "mse", "mae", "smape"):
            raise ValueError(f"data.metric {self.metric!r} does not fit a forecast; choose mse, mae or smape")
        if abs(sum(self.split) - 1.0) > 1e-6 or min(self.split) < 0 or self.split[0] <= 0 or self.split[1] <= 0:
            raise ValueError(f"data.split {list(self.split)} must be three fractions summing to 1")
        return self


class SpaceSection(Section):
    """The search space (see :class:`stacksearch.SearchSpace`).

    ``bidirectional`` and ``residual``: ``true`` or ``false`` for every trial, or
    ``[false, true]`` to search them (default false).
    """

    depth: tuple[int, int] = (1, 3)
    width_mode: Literal["shared", "per_layer", "iso_params"] = "shared"
    units: tuple[int, int] = (8, 128)
    units_step: StrictInt | None = None
    target_params: tuple[int, int] = (2_000, 200_000)
    learning_rate: tuple[float, float] = (1e-4, 1e-2)
    dropout: tuple[float, float] | None = None
    batch_size: list[int] | None = None
    cell: list[Literal["lstm", "gru"]] = ["lstm"]
    max_params: int | None = Field(None, ge=1)
    bidirectional: list[bool] = [False]
    residual: list[bool] = [False]

    @field_validator("cell", "batch_size", mode="before")
    @classmethod
    def _scalar_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value

    @field_validator("bidirectional", "residual", mode="before")
    @classmethod
    def _one_or_both_bools(cls, value: Any) -> Any:
        values = [value] if isinstance(value, bool) else value
        if (
            not isinstance(values, list)
            or not values
            or any(not isinstance(v, bool) for v in values)
            or len(set(values)) != len(values)
        ):
            raise ValueError("give true, false, or [false, true] to search both")
        return values

    @model_serializer(mode="wrap")
    def _defaults_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a study made before these keys existed stores its space without them; resuming compares the two
        dumped = handler(self)
        for key in ("bidirectional", "residual"):
            if dumped.get(key) == [False]:
                dumped.pop(key)
        if dumped.get("units_step") is None:
            dumped.pop("units_step", None)
        return dumped

    def to_space(self) -> SearchSpace:
        """The validated :class:`SearchSpace`."""
        return SearchSpace(
            depth=self.depth,
            units=self.units,
            units_step=self.units_step,
            width_mode=self.width_mode,
            target_params=self.target_params,
            learning_rate=self.learning_rate,
            dropout=self.dropout,
            batch_size=tuple(self.batch_size) if self.batch_size else None,
            cell=tuple(self.cell),
            max_params=self.max_params,
            bidirectional=tuple(self.bidirectional),
            residual=tuple(self.residual),
        )


class StudyConfig(Section):
    """A whole study file. Exactly one of ``benchmark`` or ``data`` says what to train on."""

    study: StudySection = Field(default_factory=StudySection)
    benchmark: BenchmarkSection | None = None
    data: DataSection | None = None
    space: SpaceSection = Field(default_factory=SpaceSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    report: ReportSection = Field(default_factory=ReportSection)
    confirm: ConfirmSection = Field(default_factory=ConfirmSection)
    source: str | None = Field(None, exclude=True)

    @field_validator("tracking", "report", "confirm", mode="before")
    @classmethod
    def _bool_section(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _one_source(self) -> StudyConfig:
        if (self.benchmark is None) == (self.data is None):
            raise ValueError("give exactly one of 'benchmark' (a built-in) or 'data' (your own arrays)")
        searched = [key for key in ("bidirectional", "residual") if len(getattr(self.space, key)) > 1]
        if self.study.sampler == "grid" and searched:
            raise ValueError(f"study.sampler: grid search does not cover space.{searched[0]}; fix it to true or false")
        return self

    @property
    def study_name(self) -> str:
        """The study's name: ``study.name`` or the study file's stem."""
        if self.study.name:
            return self.study.name
        return Path(self.source).stem if self.source else "stacksearch"

    @property
    def storage_url(self) -> str:
        """The Optuna storage URL after overrides (default ``sqlite:///stacksearch.db``)."""
        return self.study.storage or DEFAULT_STORAGE

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking URI after overrides (default ``sqlite:///mlflow.db``)."""
        return self.tracking.tracking_uri or DEFAULT_TRACKING_URI

    @property
    def backend(self) -> str:
        """The Keras backend after overrides (default ``auto``: TensorFlow on CPU, JAX on a GPU)."""
        return self.training.backend or DEFAULT_BACKEND


def validate_config(raw: Any, source: str | None = None) -> StudyConfig:
    """Validate a parsed study mapping; errors name the file, the key and the value."""
    prefix = f"{source}: " if source else ""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix}a study file must be a YAML mapping (key: value), got {type(raw).__name__}")
    try:
        config = StudyConfig.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(describe_error(StudyConfig, errors[0], prefix) + more) from None
    config.source = source
    try:
        config.space.to_space()
    except ConfigError as err:
        raise ConfigError(f"{prefix}{err}") from None
    if config.benchmark is not None:
        from stacksearch import benchmarks

        try:
            benchmarks.get(config.benchmark.name)
            benchmarks.check_args(config.benchmark.name, config.benchmark.args)
        except ConfigError as err:
            raise ConfigError(
                f"{prefix}benchmark.name: {err}" if "unknown benchmark" in str(err) else f"{prefix}{err}"
            ) from None
    return config


def load_config(
    path: str | Path,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    budget: str | float | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    backend: str | None = None,
    seed: int | None = None,
    tracking_uri: str | None = None,
    workers: int | None = None,
    tracking: bool | None = None,
    report: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> StudyConfig:
    """Read and validate a study YAML file, then apply environment and flag overrides.

    Each keyword is a setting of :data:`stacksearch.settings.SETTINGS` (``tracking=False``
    is ``--no-tracking``); ``env`` defaults to ``os.environ``.

    Example:
        >>> cfg = load_config("studies/quickstart.yaml", n_trials=3)  # doctest: +SKIP
        >>> cfg.study.n_trials  # doctest: +SKIP
        3
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(_folder_message(path))
    if not path.is_file():
        raise ConfigError(f"{path}: study file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path}:{where}: malformed YAML: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    config = validate_config(raw, str(path))
    return apply_overrides(
        config,
        env=env,
        n_trials=n_trials,
        timeout=timeout,
        budget=budget,
        storage=storage,
        study_name=study_name,
        backend=backend,
        seed=seed,
        tracking_uri=tracking_uri,
        workers=workers,
        tracking=tracking,
        report=report,
    )


def _folder_message(path: Path) -> str:
    """What to say when a study file's path is a folder: that, and the study files in it."""
    found = sorted(p.name for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    inside = f" (it holds {', '.join(found[:5])}{', ...' if len(found) > 5 else ''})" if found else ""
    return f"{path}: is a folder, not a study file; give the path of a study YAML file{inside}"


def apply_overrides(config: StudyConfig, env: Mapping[str, str] | None = None, **flags: Any) -> StudyConfig:
    """Apply the environment, then non-None flags, over the file's values (:func:`stacksearch.settings.choose`).

    ``flags`` are by setting name (``n_trials``, ``storage``, ...); ``env`` defaults to
    ``os.environ``. A bad value raises a :class:`ConfigError` naming the flag or variable.

    Example:
        >>> cfg = StudyConfig.model_validate({"benchmark": {"name": "adding"}})
        >>> apply_overrides(cfg, {"STACKSEARCH_STORAGE": "sqlite:///env.db"}, n_trials=3).storage_url
        'sqlite:///env.db'
    """
    unknown = sorted(set(flags) - set(SETTINGS))
    if unknown:
        raise TypeError(f"apply_overrides: no setting {unknown[0]!r}; the settings are {', '.join(SETTINGS)}")
    for setting in SETTINGS.values():
        section = getattr(config, setting.section)
        choice = choose(setting.name, flag=flags.get(setting.name), file=getattr(section, setting.field), env=env)
        if choice.layer not in ("flag", "environment"):
            continue
        try:
            setattr(section, setting.field, choice.value)
        except ValidationError as err:
            message = err.errors()[0]["msg"].removeprefix("Value error, ")
            raise ConfigError(f"{choice.origin}={choice.value!r}: {message}") from None
    return config
