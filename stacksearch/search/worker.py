"""One worker process of a local pool (``python -m stacksearch.search.worker``), started by :func:`run_workers`.

It reads its configuration from the private file the pool wrote, loads the data, waits
for the process it replaces (if any) to exit, and runs trials with :func:`run_study`.
Exit codes: 0 done, :data:`RECYCLE_EXIT` left to be replaced, 2 a user error, 130 stopped.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

import optuna

from stacksearch.config import StudyConfig
from stacksearch.exceptions import StackSearchError
from stacksearch.search.pool import RECYCLE_EXIT, finished_trials, read_worker_config, recycle_after

__all__ = ["main"]


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


def _study_over(study: optuna.Study, config: StudyConfig, started: float) -> bool:
    """The study has its ``n_trials`` finished trials, or this worker's ``timeout`` has passed."""
    timed_out = config.study.timeout is not None and time.monotonic() - started >= config.study.timeout
    return timed_out or len(finished_trials(study)) >= config.study.n_trials


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

    from stacksearch.backend import limit_framework_threads, select_backend
    from stacksearch.search.loop import run_study
    from stacksearch.sources import load_study_data

    begun = time.monotonic()  # the config's timeout is what was left when this process started
    config = read_worker_config(args.config)
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
        select_backend(config.backend)
        limit_framework_threads()
        data = load_study_data(config)
        if args.after is not None:
            _wait_for_exit(args.after, stop)
        if config.study.timeout is not None:  # less the time spent loading and waiting
            config.study.timeout = max(1.0, config.study.timeout - (time.monotonic() - begun))
        started = time.monotonic()
        study = run_study(config, stop=stop, data=data, max_trials=recycle_after(config))
        if not stop.is_set() and not _study_over(study, config, started):
            return RECYCLE_EXIT
    except KeyboardInterrupt:
        return 130
    except StackSearchError as err:
        print(f"[worker {args.index}] stacksearch: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
