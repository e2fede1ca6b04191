"""This machine as workers see it: cores, GPUs, each worker's environment and its label.

Example:
    >>> env = worker_env(1, 4, cpus=8, gpus=["0", "1"], base={})
    >>> env["CUDA_VISIBLE_DEVICES"], env["OMP_NUM_THREADS"], env["STACKSEARCH_WORKER"]
    ('1', '2', '1')
    >>> worker_label(123).endswith(":123")
    True
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence

__all__ = ["cpu_count", "visible_gpus", "worker_env", "worker_label", "WORKER_ENV", "THREAD_VARS"]

WORKER_ENV = "STACKSEARCH_WORKER"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def cpu_count() -> int:
    """Cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def visible_gpus(env: Mapping[str, str] | None = None) -> list[str]:
    """GPU ids workers may use: ``CUDA_VISIBLE_DEVICES`` if set, else what ``nvidia-smi -L`` lists."""
    env = os.environ if env is None else env
    if "CUDA_VISIBLE_DEVICES" in env:
        return [g.strip() for g in env["CUDA_VISIBLE_DEVICES"].split(",") if g.strip() and g.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, _ in enumerate(line for line in out.splitlines() if line.startswith("GPU "))]


def worker_env(
    index: int,
    n_workers: int,
    *,
    cpus: int | None = None,
    gpus: Sequence[str] | None = None,
    base: Mapping[str, str] | None = None,
    generation: int = 0,
) -> dict[str, str]:
    """The environment of worker ``index`` of ``n_workers``: thread limits and its GPU.

    ``generation`` counts the processes that replaced this worker (``study.recycle_after``);
    each samples with its own seed.

    Each worker gets ``max(1, cpus // n_workers)`` threads for OpenMP, BLAS, TensorFlow,
    JAX (XLA) and torch. With GPUs, worker i sees GPU ``gpus[i % len(gpus)]`` only, and
    frameworks allocate GPU memory as needed so workers sharing a GPU fit.
    """
    env = dict(os.environ if base is None else base)
    threads = max(1, (cpus or cpu_count()) // max(1, n_workers))
    for name in THREAD_VARS:
        env[name] = str(threads)
    env["TF_NUM_INTEROP_THREADS"] = str(min(2, threads))
    if threads == 1:
        flags = env.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
    gpus = visible_gpus(env) if gpus is None else list(gpus)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if env.get(WORKER_ENV) != "auto":  # auto: several hosts run --workers N; host:pid tells them apart
        env[WORKER_ENV] = f"{index}-{generation}" if generation else str(index)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def worker_label(pid: int | None = None) -> str:
    """``host:pid`` of this process, or of process ``pid`` on this host (trial user attribute ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"
