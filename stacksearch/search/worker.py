"""One worker process of a local pool (``python -m stacksearch.search.worker``), started by :func:`run_workers`.

It reads its configuration and the run's deadline from the private file the pool wrote,
loads the data, waits for the process it replaces (if any) to exit, and runs
:func:`~stacksearch.search.phases.work`: search trials until the run's deadline (not one of its
own) or ``n_trials``, then its share of the confirmation's retrainings.
Exit codes (:func:`exit_code` of the loop's :class:`StopReason`): 0 done (target, deadline, or
stopped after the running trial), :data:`RECYCLE_EXIT` left to be replaced, 2 a user error,
130 stopped at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import optuna

from stacksearch.exceptions import StackSearchError
from stacksearch.search.budget import hard_end
from stacksearch.search.loop import StopReason, start_backend
from stacksearch.search.pool import RECYCLE_EXIT, read_worker_file, recycle_after

__all__ = ["main", "exit_code"]


def _wait_for_exit(pid: int, stop: threading.Event) -> None:
    """Wait until process ``pid`` has exited (a zombie not yet reaped counts) or ``stop`` is set."""
    while not stop.is_set():
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):  # gone, or the id now belongs to another user
            return
        if _is_zombie(pid):
            return
        stop.wait(0.2)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):  # no /proc (not Linux), or already gone
        return False


def exit_code(reason: StopReason) -> int:
    """The worker's exit code for why its loop stopped: :data:`RECYCLE_EXIT` to be replaced, else 0.

    Example:
        >>> exit_code(StopReason.RECYCLE), exit_code(StopReason.DEADLINE)
        (75, 0)
    """
    return RECYCLE_EXIT if reason is StopReason.RECYCLE else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of one worker process (started by :func:`run_workers`)."""
    parser = argparse.ArgumentParser(prog="python -m stacksearch.search.worker", description="one stacksearch worker")
    parser.add_argument("--config", required=True, help="JSON file written by run_workers")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--after", type=int, default=None, help="start training once this process has exited")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    warnings.filterwarnings("ignore", category=FutureWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.basicConfig(level=logging.WARNING, format=f"[worker {args.index}] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

    from stacksearch.backend import limit_framework_threads
    from stacksearch.search.phases import work
    from stacksearch.sources import load_study_data

    config, deadline = read_worker_file(args.config)
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        # SIGINT (forwarded Ctrl-C): finish the running trial; a second one, or SIGTERM (the
        # supervisor's "stop now"), stops it at once: it ends FAIL, and the study goes on without it.
        if stop.is_set() or signum == signal.SIGTERM:
            optuna.logging.set_verbosity(optuna.logging.ERROR)  # no traceback for the trial stopped now
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    try:
        if hard_end(deadline).expired():  # the run's timeout passed before this process started: nothing to load
            return exit_code(StopReason.DEADLINE)
        start_backend(config)
        limit_framework_threads()
        data = load_study_data(config)
        if args.after is not None:
            _wait_for_exit(args.after, stop)
        return exit_code(work(config, data, stop=stop, deadline=deadline, max_trials=recycle_after(config)))
    except KeyboardInterrupt:
        return 130
    except StackSearchError as err:
        print(f"[worker {args.index}] stacksearch: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
