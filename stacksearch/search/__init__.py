"""Searching: set up a study (:mod:`~stacksearch.search.setup`), run its trial loop in this process
(:mod:`~stacksearch.search.loop`), or in a pool of local worker processes (:mod:`~stacksearch.search.pool`,
each one :mod:`~stacksearch.search.worker`).

Example:
    >>> from stacksearch.search import make_pruner, run_study, run_workers  # doctest: +SKIP
"""

from stacksearch.search.loop import FINISHED, Deadline, RunResult, StopReason, run_study, run_trials, trial_counts
from stacksearch.search.pool import (
    RECYCLE_AFTER,
    RECYCLE_EXIT,
    recycle_after,
    run_pool,
    run_workers,
    uses_worker_processes,
)
from stacksearch.search.setup import (
    default_pruner,
    default_sampler,
    grid_for,
    make_pruner,
    make_sampler,
    prepare_study,
    sampler_seed,
    startup_trials,
)

__all__ = [
    "run_study",
    "run_trials",
    "RunResult",
    "Deadline",
    "StopReason",
    "trial_counts",
    "FINISHED",
    "run_workers",
    "run_pool",
    "uses_worker_processes",
    "recycle_after",
    "RECYCLE_AFTER",
    "RECYCLE_EXIT",
    "make_sampler",
    "make_pruner",
    "prepare_study",
    "sampler_seed",
    "startup_trials",
    "grid_for",
    "default_sampler",
    "default_pruner",
]
