"""Several worker processes on this machine sharing one study (``stacksearch run --workers N``).

The parent validates the study file, loads the data and creates the study, then starts N
processes (``python -m stacksearch.search.worker``) that each run :func:`stacksearch.run_study`
against the same storage; the study's ``n_trials`` target makes them stop together. Each
worker gets ``cores // N`` framework threads and, on a machine with G GPUs, the GPU
``i mod G`` through ``CUDA_VISIBLE_DEVICES``. Workers on other machines run the same
command with ``--storage postgresql+psycopg://...`` (see docs/scaling.md).

JAX (and torch) keep compiled functions from every model they train (JAX: 5-27 MB per
trial, measured in docs/performance.md), so on those backends a worker leaves after
``study.recycle_after`` trials with exit code :data:`RECYCLE_EXIT` and a fresh process takes
its place; on TensorFlow, whose memory stays flat, it does not unless asked to (see
:func:`recycle_after`). A single-worker ``stacksearch run`` with more trials than that runs
its worker in a child process too.

The worker's configuration travels in a private temporary file, never on the command
line, so a database password in the storage URL is not visible in ``ps``; so does the
run's :class:`~stacksearch.search.loop.Deadline`, so that ``study.timeout`` counts from the
start of the run in every worker, a replacement's start-up and data loading included.

Example:
    >>> worker_command("/tmp/w.json", 1)[1:4]
    ['-m', 'stacksearch.search.worker', '--config']
    >>> study = run_workers(load_config("studies/quickstart.yaml"), 2)  # doctest: +SKIP
    >>> run_pool(load_config("studies/quickstart.yaml"), 2).reason  # doctest: +SKIP
    <StopReason.TARGET: 'target'>
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna

from stacksearch.backend import resolve_backend
from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError, WorkerError
from stacksearch.host import cpu_count, visible_gpus, worker_env, worker_label
from stacksearch.search.budget import deadline_from_json, hard_end
from stacksearch.search.loop import Deadline, RunResult, StopReason
from stacksearch.search.setup import prepare_study
from stacksearch.sources import load_study_data
from stacksearch.states import FINISHED
from stacksearch.storage import is_sqlite, sqlite_file

__all__ = [
    "run_workers",
    "run_pool",
    "uses_worker_processes",
    "worker_command",
    "write_worker_config",
    "read_worker_config",
    "read_worker_file",
    "recycle_after",
    "finished_trials",
    "RECYCLE_AFTER",
    "RECYCLE_EXIT",
]

_log = logging.getLogger(__name__)
RECYCLE_AFTER = 20  # trials per worker process under recycle_after: auto, on backends whose memory grows
RECYCLE_EXIT = 75  # a worker left after study.recycle_after trials, with work left: start a fresh one
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


def worker_command(config_file: str | Path, index: int, *, after: int | None = None) -> list[str]:
    """The command line of worker ``index``: no URL on it, so ``ps`` shows no password.

    ``after``: the process id of the worker this one replaces; it trains once that has exited.
    """
    command = [sys.executable, "-m", "stacksearch.search.worker", "--config", str(config_file), "--index", str(index)]
    return command + ["--after", str(after)] if after is not None else command


def recycle_after(config: StudyConfig) -> int | None:
    """Trials a worker process runs before a fresh one replaces it (None: it never is).

    ``study.recycle_after: auto`` (the default) means never on TensorFlow, whose memory
    stays flat from trial to trial, and every :data:`RECYCLE_AFTER` trials on JAX and
    torch, which keep compiled functions from every trial (docs/performance.md); the
    backend is :func:`stacksearch.backend.resolve_backend`'s.

    Example:
        >>> config = load_config("studies/quickstart.yaml")  # doctest: +SKIP
        >>> config.study.recycle_after, recycle_after(config)  # on a CPU  # doctest: +SKIP
        ('auto', None)
    """
    value = config.study.recycle_after
    if value != "auto":
        return value
    return None if resolve_backend(config.backend) == "tensorflow" else RECYCLE_AFTER


def uses_worker_processes(config: StudyConfig) -> bool:
    """Whether ``stacksearch run`` trains in worker processes rather than in its own.

    Several workers always do. One worker does when the study has more trials than
    :func:`recycle_after`, so that a fresh process can replace it and give back the
    memory JAX keeps from every trial; that needs a storage other processes can open
    (not in-memory SQLite).

    Example:
        >>> uses_worker_processes(load_config("studies/quickstart.yaml"))  # doctest: +SKIP
        False
    """
    if config.study.workers > 1:
        return True
    recycle = recycle_after(config)
    return recycle is not None and config.study.n_trials > recycle and not _in_memory(config.storage_url)


def _in_memory(url: str) -> bool:
    """The storage lives in this process only (in-memory SQLite): no other process can open it."""
    return is_sqlite(url) and sqlite_file(url) is None


def write_worker_config(config: StudyConfig, path: Path, *, deadline: Deadline | None = None) -> Path:
    """Write what every worker runs (``study.workers`` set to 1) to ``path``, readable by this user only.

    ``deadline``: the run's, which every worker keeps to (default: ``study.timeout`` from now).
    """
    worker_config = config.model_copy(deep=True)
    worker_config.study.workers = 1
    deadline = deadline if deadline is not None else Deadline.after(config.study.timeout)
    payload = {
        "config": worker_config.model_dump(mode="json"),
        "source": config.source,
        "deadline": deadline.to_json(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    return path


def read_worker_config(path: str | Path) -> StudyConfig:
    """The :class:`StudyConfig` written by :func:`write_worker_config` (validated again)."""
    return read_worker_file(path)[0]


def read_worker_file(path: str | Path) -> tuple[StudyConfig, Deadline]:
    """The :class:`StudyConfig` and the run's :class:`Deadline` written by :func:`write_worker_config`.

    Example:
        >>> path = write_worker_config(config, Path("w.json"), deadline=Deadline(1e9))  # doctest: +SKIP
        >>> read_worker_file(path)[1].expired()  # 2001 has passed  # doctest: +SKIP
        True
    """
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    config = StudyConfig.model_validate(payload["config"])
    config.source = payload.get("source")
    return config, deadline_from_json(payload.get("deadline"), config)


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def _signal_all(procs: Sequence[subprocess.Popen], sig: int) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_workers(
    config: StudyConfig,
    n_workers: int,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    data: SequenceData | None = None,
    poll_seconds: float = 1.0,
    deadline: Deadline | None = None,
) -> optuna.Study:
    """Run the study with ``n_workers`` local worker processes until it reaches ``n_trials``.

    :func:`run_pool` without the stop reason (same arguments).

    Example:
        >>> study = run_workers(load_config("studies/quickstart.yaml"), 2)  # doctest: +SKIP
    """
    return run_pool(
        config, n_workers, callbacks=callbacks, stop=stop, data=data, poll_seconds=poll_seconds, deadline=deadline
    ).study


def run_pool(
    config: StudyConfig,
    n_workers: int,
    *,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    data: SequenceData | None = None,
    poll_seconds: float = 1.0,
    deadline: Deadline | None = None,
) -> RunResult:
    """Run the study with ``n_workers`` local worker processes; return it and why the run stopped.

    The run stops when the study reaches ``n_trials`` (:attr:`StopReason.TARGET`), at the
    ``deadline`` (``DEADLINE``; default: ``study.timeout`` from this call, so data loading
    counts; every worker, replacements too, keeps to this one deadline), or when ``stop`` is
    set (``STOPPED``: Ctrl-C or SIGTERM asks every worker to stop after its running trial; a
    KeyboardInterrupt here terminates them). ``callbacks`` get ``(study, trial)`` whenever
    more trials have finished (any worker). A worker that dies does not stop the others:
    its trial is failed after the grace period and retried by a surviving worker.
    Raises :class:`~stacksearch.exceptions.WorkerError` when every worker failed before the target.

    Example:
        >>> run_pool(load_config("studies/quickstart.yaml"), 2, deadline=Deadline.after(600)).reason  # doctest: +SKIP
        <StopReason.TARGET: 'target'>
    """
    deadline = deadline if deadline is not None else Deadline.after(config.study.timeout)
    if _in_memory(config.storage_url):
        raise ConfigError(
            f"storage {config.storage_url!r} lives in one process; workers need a file "
            "(sqlite:///study.db) or a server (postgresql+psycopg://USER@HOST/DB)"
        )
    data = data if data is not None else load_study_data(config)
    study = prepare_study(config, data, config.space.to_space())  # created once, before the race
    stop = stop or threading.Event()
    with tempfile.TemporaryDirectory(prefix="stacksearch-workers-") as tmp:
        pool = _WorkerPool(config, n_workers, Path(tmp), deadline)
        _log.info("started %d workers: pids %s", n_workers, [p.pid for p in pool.procs])
        previous_term = _forward_sigterm(stop)
        try:
            _supervise(study, pool, callbacks, stop, poll_seconds)
        except BaseException:
            pool.terminate()
            raise
        finally:
            if previous_term is not None:
                signal.signal(signal.SIGTERM, previous_term)
    codes = [proc.returncode for proc in pool.procs]
    for index, code in enumerate(codes):
        if code not in (0, RECYCLE_EXIT):
            _log.warning("worker %d (pid %d) ended with %s", index, pool.procs[index].pid, _describe_exit(code))
    done = len(finished_trials(study))
    if all(code not in (0, RECYCLE_EXIT) for code in codes) and done < config.study.n_trials and not stop.is_set():
        exits = ", ".join(_describe_exit(c) for c in codes)
        if n_workers == 1:
            raise WorkerError(
                f"the worker process failed ({exits}) with {done}/{config.study.n_trials} "
                "trials finished; its error is printed above"
            )
        raise WorkerError(
            f"all {n_workers} workers failed ({exits}) with {done}/{config.study.n_trials} trials finished; "
            "run with --workers 1 --debug to see why"
        )
    return RunResult(study, _pool_reason(done >= config.study.n_trials, stop, deadline))


def _pool_reason(reached: bool, stop: threading.Event, deadline: Deadline) -> StopReason:
    """Why every worker has left for good, in the loop's order (those that failed on the way are warned about)."""
    if reached:
        return StopReason.TARGET
    if stop.is_set():
        return StopReason.STOPPED
    if deadline.expired():
        return StopReason.DEADLINE
    return StopReason.STOPPED  # the workers themselves were signalled, not this process


class _WorkerPool:
    """The worker processes of one run; a worker that leaves after ``recycle_after`` trials is replaced.

    The replacement starts while its predecessor trains its last trial: it imports the
    framework and loads the data meanwhile, and takes trials once the predecessor has exited.
    """

    def __init__(self, config: StudyConfig, n_workers: int, folder: Path, deadline: Deadline) -> None:
        self.config, self.n_workers, self.folder, self.deadline = config, n_workers, folder, deadline
        self.gpus, self.cpus = visible_gpus(), cpu_count()
        self.recycle = recycle_after(config)
        self.generations = [0] * n_workers
        self.successors: list[subprocess.Popen | None] = [None] * n_workers
        self.procs = [self._start(index) for index in range(n_workers)]

    def _start(self, index: int, after: int | None = None) -> subprocess.Popen:
        generation = self.generations[index]
        path = write_worker_config(
            self.config, self.folder / f"worker-{index}-{generation}.json", deadline=self.deadline
        )
        env = worker_env(index, self.n_workers, cpus=self.cpus, gpus=self.gpus, generation=generation)
        return subprocess.Popen(worker_command(path, index, after=after), env=env, start_new_session=True)

    def live(self) -> list[subprocess.Popen]:
        """Every process of the pool: the workers and the replacements waiting for them."""
        return self.procs + [proc for proc in self.successors if proc is not None]

    def _replaceable(self, code: int | None, stop: threading.Event) -> bool:
        return code == RECYCLE_EXIT and not stop.is_set() and not hard_end(self.deadline).expired()

    def prepare_successors(self, finished: Sequence[optuna.trial.FrozenTrial], stop: threading.Event) -> None:
        """Start the replacement of each worker that is on its last trial before recycling."""
        if self.recycle is None or stop.is_set():
            return
        done_by = Counter(trial.user_attrs.get("worker") for trial in finished)
        for index, proc in enumerate(self.procs):
            last_trial = done_by[worker_label(proc.pid)] >= self.recycle - 1
            if self.successors[index] is None and proc.poll() is None and last_trial:
                self.generations[index] += 1
                self.successors[index] = self._start(index, after=proc.pid)

    def replace_recycled(self, stop: threading.Event) -> None:
        """Hand each exited worker's place to its replacement, or start one if it left to be recycled."""
        for index, proc in enumerate(self.procs):
            code = proc.poll()
            if code is None:
                continue
            successor = self.successors[index]
            if successor is not None:
                self.procs[index], self.successors[index] = successor, None
            elif self._replaceable(code, stop):
                self.generations[index] += 1
                self.procs[index] = self._start(index)
            else:
                continue
            _log.info("worker %d recycled: pid %d replaces %d", index, self.procs[index].pid, proc.pid)

    def all_exited(self, stop: threading.Event) -> bool:
        """Every worker has ended for good (one that left to be recycled is replaced unless stopping)."""
        if any(proc is not None for proc in self.successors):
            return False
        return all(code is not None and not self._replaceable(code, stop) for code in (p.poll() for p in self.procs))

    def terminate(self) -> None:
        """Stop every worker now with SIGTERM (its trial ends FAIL, recorded); kill any left after 30 s."""
        _signal_all(self.live(), signal.SIGTERM)
        for proc in self.live():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _forward_sigterm(stop: threading.Event) -> Any:
    """SIGTERM on the parent (docker stop, a batch scheduler) stops workers after their trial."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())


def _supervise(
    study: optuna.Study, pool: _WorkerPool, callbacks: Sequence[Callback], stop: threading.Event, poll_seconds: float
) -> None:
    seen, forwarded = 0, False
    while True:
        if stop.is_set() and not forwarded:
            _signal_all(pool.live(), signal.SIGINT)  # each worker finishes its running trial
            forwarded = True
        pool.replace_recycled(stop)
        finished = finished_trials(study)
        pool.prepare_successors(finished, stop)
        if len(finished) != seen and callbacks:
            last = max(finished, key=lambda t: (t.datetime_complete is not None, t.datetime_complete, t.number))
            for callback in callbacks:
                callback(study, last)
        seen = len(finished)
        if pool.all_exited(stop):
            return
        stop.wait(poll_seconds) if not stop.is_set() else time.sleep(poll_seconds)
