"""JAX's persistent compilation cache: one folder per study, filled by the first process, reused by the next."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.studies import write_study

pytestmark = pytest.mark.integration
jax = pytest.importorskip("jax", reason='JAX is not installed (pip install "stacksearch[jax]")')

ONE_ARCHITECTURE = """
study: {{name: cached, n_trials: {n_trials}, seed: 1}}
benchmark: {{name: adding, args: {{length: 6, n_train: 64, n_val: 32, n_test: 32}}}}
space: {{depth: [1, 1], units: [6, 6], learning_rate: [0.001, 0.01]}}
training: {{epochs: 2, batch_size: 32, backend: jax}}
tracking: false
report: false
confirm: false
"""


def _run(path: Path, folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"} | {"KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [sys.executable, "-m", "stacksearch.cli", "run", str(path)], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _entries(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir()} if cache.is_dir() else set()


def test_a_second_process_of_the_study_compiles_nothing_new_for_a_repeated_architecture(workdir):
    cache = workdir / "stacksearch.db.artifacts" / "jax-cache" / "cached"
    _run(write_study(workdir / "a.yaml", ONE_ARCHITECTURE.format(n_trials=2)), workdir)
    first = _entries(cache)
    assert first, f"no compiled program was cached in {cache}"
    _run(write_study(workdir / "b.yaml", ONE_ARCHITECTURE.format(n_trials=4)), workdir)  # resumes: 2 more trials
    assert _entries(cache) == first  # every program the new process needed was in the cache
