"""Deprecated: moved to :mod:`stacksearch.search` (setup, loop) and :mod:`stacksearch.sources`; kept for one release."""

from stacksearch._moved import forwarder

_HOMES = {
    **dict.fromkeys(
        ("run_study", "trial_counts", "FINISHED", "_TargetGuard", "_work", "_freeze_long_lived_objects"),
        "stacksearch.search.loop",
    ),
    **dict.fromkeys(
        ("make_sampler", "make_pruner", "prepare_study", "sampler_seed", "startup_trials", "grid_for"),
        "stacksearch.search.setup",
    ),
    **dict.fromkeys(("load_study_data", "data_source", "load_data_source"), "stacksearch.sources"),
    "worker_label": "stacksearch.host",
}
__getattr__ = forwarder(__name__, _HOMES)
