"""Storage load: N worker processes x T no-training trials against one Optuna RDB storage.

Each worker loops ask -> suggest (depth, units, learning_rate) -> heartbeat -> tell, as a
stacksearch worker does around a trial, but without training. Prints trials per second
over the whole run, p50/p95 ask and tell latency, and the errors (for example SQLite's
"database is locked").

Every mode has heartbeats on. For SQLite, ``--mode stacksearch`` opens storage with
:func:`stacksearch.storage.open_storage` (WAL + busy timeout + BEGIN IMMEDIATE);
``--mode plain`` is Optuna's RDBStorage with a busy timeout and WAL (Python's sqlite3 then
runs SELECTs outside any transaction); ``--mode deferred`` puts reads inside deferred
transactions, as SQLAlchemy intends. Server databases always use open_storage.

    nice -n 10 python benchmarks/storage_load.py --storage postgresql+psycopg://root@127.0.0.1:5432/test
    nice -n 10 python benchmarks/storage_load.py --storage sqlite:///load.db --workers 4 --mode plain
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import uuid
import warnings

import numpy as np
import optuna
import sqlalchemy

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from stacksearch.storage import mask_url, open_storage  # noqa: E402


def _open(url: str, mode: str) -> optuna.storages.RDBStorage:
    if mode == "stacksearch" or not url.startswith("sqlite"):
        return open_storage(url, heartbeat_interval=10, grace_period=30)
    storage = optuna.storages.RDBStorage(
        url, engine_kwargs={"connect_args": {"timeout": 60}}, heartbeat_interval=10, grace_period=30
    )
    with storage.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    if mode == "deferred":  # reads inside the transaction, as SQLAlchemy intends; BEGIN DEFERRED

        @sqlalchemy.event.listens_for(storage.engine, "connect")
        def _connect(dbapi_connection, record):  # noqa: ANN001
            dbapi_connection.isolation_level = None

        @sqlalchemy.event.listens_for(storage.engine, "begin")
        def _begin(connection):  # noqa: ANN001
            connection.exec_driver_sql("BEGIN")

        storage.engine.dispose()
    return storage


def _worker(url: str, mode: str, name: str, n_trials: int, start: float, out: mp.Queue) -> None:
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = _open(url, mode)
    study = optuna.load_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler())
    asks, tells, errors, numbers = [], [], [], []
    time.sleep(max(0.0, start - time.time()))
    for _ in range(n_trials):
        try:
            t0 = time.perf_counter()
            optuna.storages.fail_stale_trials(study)
            trial = study.ask()
            numbers.append(trial.number)
            depth = trial.suggest_int("depth", 1, 4)
            trial.suggest_int("units", 8, 256, log=True)
            lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
            storage.record_heartbeat(trial._trial_id)
            t1 = time.perf_counter()
            study.tell(trial, depth * lr)
            t2 = time.perf_counter()
            asks.append(t1 - t0)
            tells.append(t2 - t1)
        except Exception as err:  # noqa: BLE001 - counted and reported
            errors.append(f"{type(err).__name__}: {str(getattr(err, '__cause__', None) or err).splitlines()[0][:120]}")
    out.put((asks, tells, errors, numbers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="Optuna storage URL")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--trials", type=int, default=200, help="trials per worker")
    parser.add_argument(
        "--enqueue",
        action="store_true",
        help="queue every trial as WAITING first (as retries are): counts trials popped twice",
    )
    parser.add_argument("--mode", choices=("stacksearch", "plain", "deferred"), default="stacksearch")
    args = parser.parse_args(argv)

    name = f"storage-load-{uuid.uuid4().hex[:8]}"
    storage = _open(args.storage, args.mode)
    created = optuna.create_study(storage=storage, study_name=name)
    if args.enqueue:
        for index in range(args.workers * args.trials):
            created.enqueue_trial({"depth": 1 + index % 4}, skip_if_exists=False)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start = time.time() + 3.0  # every worker connected before the clock starts
    procs = [
        ctx.Process(target=_worker, args=(args.storage, args.mode, name, args.trials, start, out))
        for _ in range(args.workers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    wall = time.time() - start
    for proc in procs:
        proc.join()
    asks = np.array([a for r in results for a in r[0]]) * 1000
    tells = np.array([t for r in results for t in r[1]]) * 1000
    errors = [e for r in results for e in r[2]]
    popped = [n for r in results for n in r[3]]
    twice = len(popped) - len(set(popped))
    study = optuna.load_study(study_name=name, storage=storage)
    states = {s.name: 0 for s in optuna.trial.TrialState}
    for trial in study.get_trials(deepcopy=False):
        states[trial.state.name] += 1
    optuna.delete_study(study_name=name, storage=storage)

    print(f"storage {mask_url(args.storage)}  mode {args.mode}  {args.workers} workers x {args.trials} trials")
    print(
        "| trials done | errors | wall s | trials/s | ask p50 ms | ask p95 ms | tell p50 ms | tell p95 ms "
        "| trials run twice |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    pct = lambda a, q: f"{np.percentile(a, q):.1f}" if len(a) else "-"  # noqa: E731
    print(
        f"| {len(tells)} | {len(errors)} | {wall:.1f} | {len(tells) / wall:.1f} | {pct(asks, 50)} | {pct(asks, 95)} "
        f"| {pct(tells, 50)} | {pct(tells, 95)} | {twice} |"
    )
    print(f"trial states: { {k: v for k, v in states.items() if v} }")
    if errors:
        kinds: dict[str, int] = {}
        for error in errors:
            kinds[error] = kinds.get(error, 0) + 1
        for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {count} x {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
