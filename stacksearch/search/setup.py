"""Set up a study from a :class:`StudyConfig`: its sampler, pruner, and the study itself in storage.

The defaults here are the measured ones (docs/speed.md, docs/performance.md).

Example:
    >>> sampler_seed(0, "0"), sampler_seed(0, "2"), sampler_seed(0, "2-1")
    (0, 15838, 120567)
"""

from __future__ import annotations

import json
import os
import warnings
import zlib
from typing import Any, Literal, cast

import numpy as np
import optuna

from stacksearch import benchmarks
from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError
from stacksearch.feasible import check_feasible
from stacksearch.host import WORKER_ENV, worker_label
from stacksearch.sources import data_source
from stacksearch.space import SearchSpace
from stacksearch.storage import mask_url, open_storage

__all__ = [
    "default_sampler",
    "default_pruner",
    "make_sampler",
    "make_pruner",
    "prepare_study",
    "sampler_seed",
    "startup_trials",
    "grid_for",
]


def sampler_seed(seed: int | None, worker: str | None = None) -> int | None:
    """The sampler seed of this worker: ``seed`` alone, offset for worker k of several.

    Workers with one seed would propose the same random (start-up) trials. ``worker`` (by
    default ``STACKSEARCH_WORKER``, which ``--workers N`` sets to 0..N-1) makes each worker's
    stream differ, reproducibly; ``k-g`` is worker k's g-th replacement process (see
    ``study.recycle_after``); ``auto`` uses host and process id (compose replicas,
    machines). Training seeds stay ``seed + trial.number`` whichever worker runs a trial.

    Example:
        >>> sampler_seed(0, "0"), sampler_seed(0, "2"), sampler_seed(0, "2-1")
        (0, 15838, 120567)
    """
    worker = os.environ.get(WORKER_ENV, "") if worker is None else worker
    if seed is None or worker in ("", "0"):
        return seed
    if worker == "auto":
        worker = worker_label()
    index, _, generation = worker.partition("-")
    if index.isdigit() and (generation == "" or generation.isdigit()):
        return (seed + 7919 * int(index) + 104729 * int(generation or 0)) % (2**32)
    return (seed + 7919 * zlib.crc32(worker.encode())) % (2**32)


def default_sampler(
    space: SearchSpace, *, n_trials: int, seed: int | None = None, kind: str = "tpe"
) -> optuna.samplers.BaseSampler:
    """The measured sampler for ``space``: seeded multivariate TPE (grouped for per-layer widths).

    TPE starts modelling after :func:`startup_trials` random trials (a few, not Optuna's 10)
    and runs with ``constant_liar`` so parallel workers spread out. ``kind`` ``random`` or
    ``grid`` (:func:`grid_for`) are the alternatives. For your own Optuna code:

    Example:
        >>> import optuna, stacksearch as ss
        >>> space = ss.SearchSpace(depth=(1, 4), units=(16, 256))
        >>> sampler = ss.default_sampler(space, n_trials=50, seed=0)
        >>> study = optuna.create_study(sampler=sampler, pruner=ss.default_pruner(epochs=20))
        >>> type(sampler).__name__, sampler._n_startup_trials
        ('TPESampler', 4)
    """
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":
        return optuna.samplers.GridSampler(grid_for(space), seed=seed)
    if kind != "tpe":
        raise ConfigError(f"study.sampler: {kind!r} is not one of tpe, random, grid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=space.width_mode == "per_layer",
            constant_liar=True,
            n_startup_trials=startup_trials(n_trials),
        )


def make_sampler(config: StudyConfig, space: SearchSpace) -> optuna.samplers.BaseSampler:
    """The study file's sampler: :func:`default_sampler` with this worker's seed (:func:`sampler_seed`)."""
    return default_sampler(
        space, n_trials=config.study.n_trials, seed=sampler_seed(config.study.seed), kind=config.study.sampler
    )


def startup_trials(n_trials: int) -> int:
    """Random trials before TPE models the results: 4 (3 for studies under 16 trials).

    Optuna's 10 spends most of a small budget on full random trainings: in the tabular
    replay (``benchmarks/search_efficiency.py``, docs/speed.md) 4 needed 7-13% fewer epochs
    than 10 on both tables (adding, Mackey-Glass; 400 search seeds each), 3-6 were alike.
    """
    return min(4, max(3, n_trials // 4))


def _geometric(lo: float, hi: float, count: int, integer: bool) -> list:
    values = np.geomspace(lo, hi, count) if lo > 0 else np.linspace(lo, hi, count)
    return sorted({int(round(v)) for v in values}) if integer else sorted({float(f"{v:.3g}") for v in values})


def grid_for(space: SearchSpace) -> dict[str, list]:
    """A grid over ``space``: every depth, powers of two for widths, three learning rates.

    With ``units_step`` the widths are the step's values nearest to those powers of two.

    Example:
        >>> grid_for(SearchSpace(depth=(1, 2), units=(8, 60), units_step=4))["units"]
        [8, 16, 32, 60]
    """
    if space.width_mode == "per_layer":
        raise ConfigError("study.sampler: grid search needs width_mode shared or iso_params, not per_layer")
    grid: dict[str, list] = {"depth": list(range(space.depth[0], space.depth[1] + 1))}
    if space.width_mode == "shared":
        lo, hi = space.units
        powers = [2**k for k in range(0, 20) if lo <= 2**k <= hi]
        if space.units_step:
            steps = range(lo, hi + 1, space.units_step)
            powers = [min(steps, key=lambda v: abs(v - p)) for p in powers]
        grid["units"] = sorted({lo, hi, *powers})
    else:
        grid["target_params"] = _geometric(*space.target_params, 4, integer=True)
    grid["learning_rate"] = _geometric(*space.learning_rate, 3, integer=False)
    if space.dropout:
        grid["dropout"] = sorted({space.dropout[0], space.dropout[1]})
    if space.batch_size:
        grid["batch_size"] = list(space.batch_size)
    if len(space.cell) > 1:
        grid["cell"] = list(space.cell)
    return grid


def default_pruner(epochs: int, kind: str = "hyperband") -> optuna.pruners.BasePruner:
    """The measured pruner for trials of ``epochs`` epochs: Hyperband over epochs (or median, none).

    LSTMs sit on a loss plateau for their first epochs, where the ranking is noise (or
    inverted): no trial is judged before a fifth of its budget, then each rung halves
    (measured in benchmarks/search_efficiency.py, docs/speed.md). Report one value per
    epoch (``trial.report(value, epoch)``), as :class:`~stacksearch.StackedLSTMObjective` does.

    Example:
        >>> pruner = default_pruner(epochs=10)
        >>> type(pruner).__name__, pruner._min_resource, pruner._max_resource
        ('HyperbandPruner', 2, 10)
    """
    if epochs < 1:
        raise ConfigError(f"training.epochs: {epochs!r} must be 1 or more")
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, round(epochs / 5)), max_resource=epochs, reduction_factor=2
        )
    if kind == "median":
        warmup = max(1, epochs // 3)  # past the plateau, as for Hyperband
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if kind != "none":
        raise ConfigError(f"study.pruner: {kind!r} is not one of hyperband, median, none")
    return optuna.pruners.NopPruner()


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    """The study file's pruner (:func:`default_pruner`); none for multi-objective studies, which Optuna cannot prune."""
    return default_pruner(config.training.epochs, "none" if config.study.multi_objective else config.study.pruner)


def _study_attrs(config: StudyConfig, data: SequenceData, space: SearchSpace) -> dict[str, Any]:
    info = data.info()
    if config.benchmark is not None:
        info["args"] = {**benchmarks.get(config.benchmark.name).defaults(), **config.benchmark.args}
    return {
        "benchmark": info,
        "metric": data.metric,
        "direction": data.direction,
        "baseline": data.baseline,
        "reference": data.reference,
        "space": config.space.model_dump(mode="json"),
        "width_mode": space.width_mode,
        "training": config.training.model_dump(mode="json", exclude={"backend"}),
        "n_trials": config.study.trial_target,
        "data_source": data_source(config),
    }


def prepare_study(config: StudyConfig, data: SequenceData, space: SearchSpace) -> optuna.Study:
    """Create or resume the study (checked against the file it was made from)."""
    sequence_output = data.task == "sequence_labelling"
    check_feasible(space, data.n_features, data.n_outputs, sequence_output=sequence_output)  # refused, nothing stored
    storage = open_storage(
        config.storage_url, heartbeat_interval=config.study.heartbeat_interval, grace_period=config.study.grace_period
    )
    multi = config.study.multi_objective
    direction = cast(Literal["minimize", "maximize"], data.direction)  # SequenceData checks it is one of these
    directions = [direction, "minimize"] if multi else [direction]
    name = config.study_name
    existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if name in existing:
        found = [d.name.lower() for d in existing[name].directions]
        if found != directions:
            raise ConfigError(
                f"study {name!r} in {mask_url(config.storage_url)} has directions {found}, this file "
                f"needs {directions}; choose another --study-name"
            )
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        directions=directions,
        load_if_exists=True,
        sampler=make_sampler(config, space),
        pruner=make_pruner(config),
    )
    attrs = json.loads(json.dumps(_study_attrs(config, data, space)))  # as storage gives them back: lists, not tuples
    if "benchmark" in study.user_attrs:
        for key in ("space", "benchmark"):
            old, new = study.user_attrs.get(key), attrs[key]
            if key == "benchmark":
                old = {k: (old or {}).get(k) for k in ("name", "args", "task", "metric")}
                new = {k: new.get(k) for k in ("name", "args", "task", "metric")}
            if old != new:
                raise ConfigError(
                    f"study {name!r} already exists with a different {key} ({old}); "
                    "choose another --study-name or restore the original study file"
                )
    for key, value in attrs.items():
        if key in ("n_trials", "data_source") or key not in study.user_attrs:
            study.set_user_attr(key, value)
    return study
