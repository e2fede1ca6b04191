"""Local workers: thread limits, GPU assignment, the worker's config file, the CLI flag, checkpoint folders."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from stacksearch.checkpoint import ARTIFACTS_ENV, CheckpointStore, default_folder
from stacksearch.cli import build_parser
from stacksearch.config import StudyConfig, validate_config
from stacksearch.exceptions import ConfigError
from stacksearch.host import visible_gpus, worker_env
from stacksearch.search.pool import read_worker_config, uses_worker_processes, worker_command, write_worker_config
from stacksearch.search.setup import make_sampler, sampler_seed


@pytest.mark.parametrize("n_workers, cpus, threads", [(1, 2, 2), (2, 2, 1), (4, 2, 1), (4, 16, 4), (3, 16, 5)])
def test_each_worker_gets_its_share_of_the_cores(n_workers, cpus, threads):
    env = worker_env(0, n_workers, cpus=cpus, gpus=[], base={})
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        assert env[name] == str(threads)
    assert int(env["TF_NUM_INTEROP_THREADS"]) <= 2
    assert ("intra_op_parallelism_threads=1" in env.get("XLA_FLAGS", "")) == (threads == 1)
    assert "CUDA_VISIBLE_DEVICES" not in env


def test_worker_i_sees_gpu_i_mod_g():
    seen = [worker_env(i, 5, cpus=16, gpus=["0", "1"], base={})["CUDA_VISIBLE_DEVICES"] for i in range(5)]
    assert seen == ["0", "1", "0", "1", "0"]
    env = worker_env(1, 2, cpus=16, gpus=["3", "5"], base={"XLA_PYTHON_CLIENT_PREALLOCATE": "true"})
    assert env["CUDA_VISIBLE_DEVICES"] == "5" and env["STACKSEARCH_WORKER"] == "1"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"  # the user's choice is kept
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_visible_gpus_respects_cuda_visible_devices():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_worker_config_round_trips_privately_and_never_reaches_the_command_line(tmp_path):
    url = "postgresql+psycopg://me:hunter2@db:5432/optuna"
    config = StudyConfig.model_validate(
        {
            "benchmark": {"name": "adding", "args": {"length": 10}},
            "study": {
                "name": "s",
                "n_trials": 7,
                "workers": 4,
                "storage": url,
                "heartbeat_interval": 2,
                "grace_period": 9,
                "artifacts": "/shared/ckpt",
            },
            "space": {"depth": [1, 3], "batch_size": [32, 64]},
        }
    )
    config.source = str(tmp_path / "s.yaml")
    path = write_worker_config(config, tmp_path / "config.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    back = read_worker_config(path)
    assert back.study.workers == 1 and back.source == config.source
    assert back.model_dump(exclude={"study": {"workers"}}) == config.model_dump(exclude={"study": {"workers"}})
    assert "hunter2" not in " ".join(worker_command(path, 3))


def test_cli_run_has_a_workers_flag():
    parser = build_parser()
    assert parser.parse_args(["run", "s.yaml", "--workers", "4"]).workers == 4
    assert parser.parse_args(["run", "s.yaml"]).workers is None
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "s.yaml", "--workers", "0"])


@pytest.mark.parametrize("module", ["stacksearch.search.worker", "stacksearch.workers"])
def test_worker_entry_point_starts(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True).stdout
    assert "--config" in out and "--index" in out


def test_checkpoint_folder_defaults_and_overrides(tmp_path, monkeypatch):
    monkeypatch.delenv(ARTIFACTS_ENV, raising=False)
    assert default_folder(f"sqlite:///{tmp_path}/study.db") == tmp_path / "study.db.artifacts"
    assert str(default_folder("postgresql+psycopg://u:p@h/db")) == "stacksearch-artifacts"
    assert CheckpointStore.for_config("sqlite:///x.db", "/shared/ckpt").folder == CheckpointStore("/shared/ckpt").folder
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "env"))
    assert CheckpointStore.for_config("sqlite:///x.db", "/shared/ckpt").folder == tmp_path / "env"


def test_workers_sharing_a_seed_propose_different_trials(monkeypatch):
    import optuna

    config = StudyConfig.model_validate({"benchmark": {"name": "adding"}, "study": {"seed": 5, "sampler": "random"}})
    space = config.space.to_space()
    first = []
    for worker in ("0", "1", "2", "0-1", "1-1"):
        monkeypatch.setenv("STACKSEARCH_WORKER", worker)
        study = optuna.create_study(sampler=make_sampler(config, space))
        first.append(study.ask().suggest_float("learning_rate", 1e-4, 1e-2, log=True))
    assert len(set(first)) == 5  # k-g: worker k's g-th replacement process samples anew
    assert worker_env(1, 2, cpus=2, gpus=[], base={}, generation=3)["STACKSEARCH_WORKER"] == "1-3"
    assert sampler_seed(5, "") == sampler_seed(5, "0") == 5  # one worker: the seed as given
    assert sampler_seed(5, "1") == sampler_seed(5, "1") != sampler_seed(5, "2")
    assert sampler_seed(None, "3") is None and sampler_seed(5, "auto") != 5
    assert worker_env(0, 2, cpus=2, gpus=[], base={"STACKSEARCH_WORKER": "auto"})["STACKSEARCH_WORKER"] == "auto"


def test_in_memory_sqlite_is_refused_for_several_workers():
    from stacksearch.exceptions import ConfigError
    from stacksearch.search.pool import run_workers

    config = StudyConfig.model_validate({"benchmark": {"name": "adding"}, "study": {"storage": "sqlite:///:memory:"}})
    with pytest.raises(ConfigError, match="workers need a file"):
        run_workers(config, 2)


@pytest.mark.parametrize(
    "study, backend, expected",
    [
        ({"n_trials": 21}, "tensorflow", False),  # auto: TensorFlow's memory stays flat
        ({"n_trials": 20}, "jax", False),  # auto on JAX: no more trials than 20
        ({"n_trials": 21}, "jax", True),  # its process is replaced after 20 trials
        ({"n_trials": 21}, "torch", True),
        ({"n_trials": 11, "recycle_after": 10}, "tensorflow", True),  # asked for explicitly
        ({"n_trials": 200, "recycle_after": None}, "jax", False),  # recycling off
        ({"n_trials": 200, "storage": "sqlite:///:memory:"}, "jax", False),  # no other process could open the study
        ({"n_trials": 5, "workers": 2}, "tensorflow", True),
    ],
)
def test_when_run_trains_in_worker_processes(study, backend, expected):
    config = StudyConfig.model_validate(
        {"benchmark": {"name": "adding"}, "study": study, "training": {"backend": backend}}
    )
    assert uses_worker_processes(config) is expected


def test_recycle_after_auto_follows_the_backend():
    from stacksearch.search.pool import RECYCLE_AFTER, recycle_after

    def resolved(study: dict, backend: str) -> int | None:
        return recycle_after(
            StudyConfig.model_validate(
                {"benchmark": {"name": "adding"}, "study": study, "training": {"backend": backend}}
            )
        )

    assert StudyConfig.model_validate({"benchmark": {"name": "adding"}}).study.recycle_after == "auto"
    assert resolved({}, "tensorflow") is None and resolved({}, "jax") == RECYCLE_AFTER == 20
    assert resolved({"recycle_after": 7}, "tensorflow") == 7 and resolved({"recycle_after": None}, "jax") is None
    with pytest.raises(
        ConfigError, match=r"study.recycle_after: give a number of trials \(1 or more\), auto or null \(got 0\)"
    ):
        validate_config({"benchmark": {"name": "adding"}, "study": {"recycle_after": 0}}, "s.yaml")


def test_a_replacement_worker_gets_what_is_left_of_the_timeout(tmp_path):
    import time

    from stacksearch.search.loop import Deadline
    from stacksearch.search.pool import read_worker_file

    config = StudyConfig.model_validate({"benchmark": {"name": "adding"}, "study": {"timeout": 600, "workers": 3}})
    run = Deadline.after(600, start=time.time() - 476.5)  # the run began 476.5 s ago
    first, later = (read_worker_file(write_worker_config(config, tmp_path / n, deadline=run)) for n in "ab")
    assert first[1] == later[1] == run and 123.0 < later[1].remaining() <= 123.5
    assert later[0].study.timeout == 600 and later[0].study.workers == 1 and config.study.workers == 3


def test_a_replacement_starts_when_its_predecessor_exits_even_before_it_is_reaped():
    import threading

    from stacksearch.search.worker import _is_zombie, _wait_for_exit

    predecessor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    try:
        _wait_for_exit(predecessor.pid, threading.Event())
        assert _is_zombie(predecessor.pid)  # it had exited, and nobody had reaped it yet
    finally:
        predecessor.wait()
    stop = threading.Event()
    stop.set()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _wait_for_exit(sleeper.pid, stop)  # stopping: no waiting for a live process
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
