"""Deprecated: moved to :mod:`stacksearch.search.pool`, :mod:`stacksearch.search.worker` and :mod:`stacksearch.host`.

Kept for one release; ``python -m stacksearch.workers`` still runs one worker.
"""

import sys

from stacksearch._moved import forwarder, warn_moved

_HOMES = {
    **dict.fromkeys(
        (
            "run_workers",
            "uses_worker_processes",
            "worker_command",
            "write_worker_config",
            "read_worker_config",
            "recycle_after",
            "RECYCLE_AFTER",
            "RECYCLE_EXIT",
        ),
        "stacksearch.search.pool",
    ),
    **dict.fromkeys(("cpu_count", "visible_gpus", "worker_env", "WORKER_ENV"), "stacksearch.host"),
    **dict.fromkeys(("main", "_wait_for_exit", "_is_zombie"), "stacksearch.search.worker"),
}
__getattr__ = forwarder(__name__, _HOMES)

if __name__ == "__main__":
    warn_moved("python -m stacksearch.workers", "python -m stacksearch.search.worker")
    from stacksearch.search.worker import main

    sys.exit(main())
