"""Run a study from a :class:`StudyConfig`: storage, sampler, pruner, tracking, workers.

``n_trials`` is a target for the study, not an increment: running the same command
again (after Ctrl-C, a crash, or from another worker) tops the study up to ``n_trials``
finished (complete + pruned) trials, and several workers stop together at exactly that.

Example:
    >>> import stacksearch as ss
    >>> study = ss.run_study(ss.load_config("studies/quickstart.yaml"))  # doctest: +SKIP
    >>> study.best_trial.user_attrs["widths"]  # doctest: +SKIP
    [32, 32]
"""

from __future__ import annotations

import gc
import logging
import math
import os
import socket
import threading
import time
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import optuna
from optuna.trial import TrialState

from stacksearch import benchmarks
from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError
from stacksearch.space import SearchSpace, check_feasible
from stacksearch.storage import add_stale_hook, fail_stale_trials, mask_url, open_storage

__all__ = ["run_study", "load_study_data", "make_sampler", "make_pruner", "prepare_study", "trial_counts"]

_log = logging.getLogger(__name__)
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
POLL_SECONDS = 2.0


def load_study_data(config: StudyConfig) -> SequenceData:
    """The :class:`SequenceData` a study trains on: a benchmark, or the user's data files."""
    return _load_data(config.benchmark, config.data, _base_dir(config))


def _base_dir(config: StudyConfig) -> Path:
    """The folder relative data paths resolve against: the study file's, else the working one."""
    return Path(config.source).parent if config.source else Path.cwd()


def _load_data(benchmark: Any, data: Any, base_dir: str | Path) -> SequenceData:
    if benchmark is not None:
        return benchmarks.load(benchmark.name, **benchmark.args)
    from stacksearch.data import load_data_section

    return load_data_section(data, base_dir)


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
    worker = os.environ.get("STACKSEARCH_WORKER", "") if worker is None else worker
    if seed is None or worker in ("", "0"):
        return seed
    if worker == "auto":
        worker = worker_label()
    index, _, generation = worker.partition("-")
    if index.isdigit() and (generation == "" or generation.isdigit()):
        return (seed + 7919 * int(index) + 104729 * int(generation or 0)) % (2**32)
    return (seed + 7919 * zlib.crc32(worker.encode())) % (2**32)


def make_sampler(config: StudyConfig, space: SearchSpace) -> optuna.samplers.BaseSampler:
    """Seeded multivariate TPE (grouped for per-layer widths), random, or grid."""
    seed = sampler_seed(config.study.seed)
    kind = config.study.sampler
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":
        return optuna.samplers.GridSampler(grid_for(space), seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=space.width_mode == "per_layer",
            constant_liar=True, n_startup_trials=startup_trials(config.study.n_trials),
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
    """A grid over ``space``: every depth, powers of two for widths, three learning rates."""
    if space.width_mode == "per_layer":
        raise ConfigError("study.sampler: grid search needs width_mode shared or iso_params, not per_layer")
    grid: dict[str, list] = {"depth": list(range(space.depth[0], space.depth[1] + 1))}
    if space.width_mode == "shared":
        lo, hi = space.units
        powers = [2**k for k in range(0, 20) if lo <= 2**k <= hi]
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


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    """Hyperband over epochs (default), median, or none; none for multi-objective studies."""
    kind = "none" if config.study.multi_objective else config.study.pruner
    if kind == "hyperband":
        # LSTMs sit on a loss plateau for their first epochs, where the ranking is noise (or
        # inverted): judge no trial before a fifth of its budget, then halve at each rung.
        # Measured in benchmarks/search_efficiency.py (docs/speed.md).
        epochs = config.training.epochs
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, round(epochs / 5)), max_resource=epochs, reduction_factor=2
        )
    if kind == "median":
        warmup = max(1, config.training.epochs // 3)  # past the plateau, as for Hyperband
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    return optuna.pruners.NopPruner()


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
        "n_trials": config.study.n_trials,
        "data_source": data_source(config),
    }


def data_source(config: StudyConfig) -> dict[str, Any]:
    """Where the study's data comes from, enough to load it again (``stacksearch confirm``)."""
    if config.benchmark is not None:
        return {"benchmark": config.benchmark.model_dump(mode="json")}
    return {"data": config.data.model_dump(mode="json"), "base_dir": str(_base_dir(config).resolve())}


def load_data_source(source: dict[str, Any]) -> SequenceData:
    """Load the data a study was run on, from its ``data_source`` user attribute."""
    from stacksearch.config import BenchmarkSection, DataSection

    if "benchmark" in source:
        return _load_data(BenchmarkSection.model_validate(source["benchmark"]), None, Path.cwd())
    return _load_data(None, DataSection.model_validate(source["data"]), source["base_dir"])


def prepare_study(config: StudyConfig, data: SequenceData, space: SearchSpace) -> optuna.Study:
    """Create or resume the study (checked against the file it was made from)."""
    check_feasible(space, data.n_features, data.n_outputs)  # a space no trial can pass: refused, nothing stored
    storage = open_storage(config.storage_url, heartbeat_interval=config.study.heartbeat_interval,
                           grace_period=config.study.grace_period)
    multi = config.study.multi_objective
    directions = [data.direction, "minimize"] if multi else [data.direction]
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
        storage=storage, study_name=name, directions=directions, load_if_exists=True,
        sampler=make_sampler(config, space), pruner=make_pruner(config),
    )
    attrs = _study_attrs(config, data, space)
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


def trial_counts(study: optuna.Study) -> dict[TrialState, int]:
    """How many trials of the study are in each state (read fresh from storage)."""
    counts = {state: 0 for state in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state] += 1
    return counts


def worker_label(pid: int | None = None) -> str:
    """``host:pid`` of this process, or of process ``pid`` on this host (trial user attribute ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


class _TargetGuard:
    """Wraps an objective so that racing workers never run past ``n_trials``.

    A trial numbered after ``n_trials`` trials that are not FAIL (finished, running or
    queued) is surplus: it ends FAIL with ``fail_reason`` "surplus" without training. A
    retried trial (queued by RetryHeartbeatStaleTrialCallback) takes its dead original's
    place, which is FAIL and no longer counts.
    """

    def __init__(self, objective: Callable, n_trials: int, multi: bool) -> None:
        self.objective, self.n_trials, self.multi = objective, n_trials, multi
        self.lost: int | None = None  # a trial another worker failed as stale while it ran here

    def __call__(self, trial: optuna.Trial) -> Any:
        try:
            trial.set_user_attr("worker", worker_label())
            ahead = sum(
                1 for t in trial.study.get_trials(deepcopy=False)
                if t.number < trial.number and t.state != TrialState.FAIL
            )
            if ahead >= self.n_trials:
                trial.set_user_attr("fail_reason", f"surplus: the study already has {self.n_trials} trials")
                trial.study.stop()
                return (math.nan, math.nan) if self.multi else math.nan
            return self.objective(trial)
        finally:
            if trial.storage.get_trial(trial._trial_id).state.is_finished():
                self.lost = trial.number


def run_study(
    config: StudyConfig,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    data: SequenceData | None = None,
    max_trials: int | None = None,
) -> optuna.Study:
    """Run (or resume) the study described by ``config`` in this process; return it.

    Input is validated and data loaded before anything is written to storage. Stops
    when the study holds ``n_trials`` finished trials, at ``timeout``, when ``stop``
    is set (after the running trial), or after ``max_trials`` trials ran in this process
    (a worker that is then replaced by a fresh process; see ``study.recycle_after``). This
    is one worker: run it in several processes or on several machines against one storage,
    or use :func:`stacksearch.workers.run_workers` (``stacksearch run --workers N``).
    """
    from stacksearch.model import select_backend
    from stacksearch.objective import StackedLSTMObjective

    data = data if data is not None else load_study_data(config)
    space = config.space.to_space()
    select_backend(config.backend)
    tracker = None
    if config.tracking.enabled:
        from stacksearch.tracking import MLflowTracker

        tracker = MLflowTracker(
            tracking_uri=config.tracking_uri,
            experiment=config.tracking.experiment or config.study_name,
            log_models=config.tracking.log_models,
        )
    study = prepare_study(config, data, space)
    if tracker is not None:
        tracker.setup(study, space=config.space.model_dump(mode="json"),
                      benchmark=study.user_attrs.get("benchmark"), config=config.model_dump(mode="json"))
        add_stale_hook(study._storage, tracker)  # a dead worker's trial: its run ends FAILED
    objective = StackedLSTMObjective(
        data, space, epochs=config.training.epochs, batch_size=config.training.batch_size,
        patience=config.training.patience, seed=config.study.seed,
        multi_objective=config.study.multi_objective, listeners=[tracker] if tracker else [],
        checkpoints=_checkpoints(config),
    )
    guarded = _TargetGuard(objective, config.study.n_trials, config.study.multi_objective)
    all_callbacks = ([tracker] if tracker else []) + list(callbacks)
    _freeze_long_lived_objects()
    try:
        _work(study, guarded, config, all_callbacks, stop or threading.Event(), max_trials)
    finally:
        gc.unfreeze()
        if tracker is not None:
            tracker.close(study)  # the parent run ends FINISHED once no trial still runs
    return study


def _checkpoints(config: StudyConfig) -> Any:
    """The per-epoch checkpoint store of the study's trials (None when turned off)."""
    if not config.study.checkpoints:
        return None
    from stacksearch.checkpoint import CheckpointStore

    return CheckpointStore.for_config(config.storage_url, config.study.artifacts)


def _freeze_long_lived_objects() -> None:
    """Move what exists now (framework modules, data, storage) out of the garbage collector's sight.

    Every trial's ``clear_session`` runs a full collection; without this it walks the
    hundreds of thousands of objects TensorFlow/JAX create at import, every trial
    (measured in docs/performance.md). Undone by ``gc.unfreeze()`` when the study loop ends.
    """
    gc.collect()
    gc.freeze()


def _work(study: optuna.Study, objective: Callable, config: StudyConfig,
          callbacks: list[Callback], stop: threading.Event, max_trials: int | None = None) -> None:
    """Run trials until the study holds ``n_trials`` finished ones (shared by all workers).

    While the last trials run on other workers, wait and look for stale ones: a dead
    worker's trial is failed after the grace period and queued again, and then taken here.
    Returns early after ``max_trials`` trials ran here.
    """
    target = config.study.n_trials
    deadline = time.monotonic() + config.study.timeout if config.study.timeout else None
    ran = 0
    while not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            break
        if max_trials is not None and ran >= max_trials:
            break
        counts = trial_counts(study)
        finished = sum(counts[s] for s in FINISHED)
        if finished >= target:
            break
        pending = counts[TrialState.RUNNING] + counts[TrialState.WAITING]
        fail_stale_trials(study)  # before Optuna's own check in optimize(): with a fail_reason
        if finished + pending >= target and counts[TrialState.WAITING] == 0:
            stop.wait(POLL_SECONDS)
            continue
        ran += 1
        try:
            study.optimize(objective, n_trials=1, callbacks=callbacks)
        except Exception as err:
            lost = getattr(objective, "lost", None)
            if lost is None:
                raise
            # Another worker found this trial stale (missed heartbeats: a hung or starved
            # worker) and queued a retry; that copy counts, this result is dropped.
            objective.lost = None
            _log.warning("trial %d was failed as stale by another worker while it ran here; its retry "
                         "counts instead (%s: %s)", lost, type(err).__name__, err)
