"""Choose and load the Keras backend: ``auto`` picks by machine; set before Keras is imported.

Example:
    >>> auto_backend(gpus=[])
    'tensorflow'
    >>> resolve_backend("jax")
    'jax'
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from stacksearch.exceptions import ConfigError
from stacksearch.host import visible_gpus
from stacksearch.settings import KERAS_DEFAULT_BACKEND, SETTINGS, resolve

__all__ = ["auto_backend", "select_backend", "resolve_backend", "limit_framework_threads", "use_compilation_cache"]


def auto_backend(gpus: list[str] | None = None) -> str:
    """The Keras backend ``auto`` picks on this machine, among those installed.

    With a GPU: JAX (then TensorFlow, torch). On CPU: TensorFlow (then JAX, torch). On
    the 2-core CPU a whole 10-trial search took 1.2x longer on JAX, whose faster steady
    epochs do not repay its per-trial model build and compilation on short trials; on the
    GPU machines here JAX has a CUDA build and beats Keras/torch (docs/performance.md).
    ``gpus`` defaults to :func:`stacksearch.host.visible_gpus`.

    Example:
        >>> auto_backend(gpus=[])
        'tensorflow'
    """
    on_gpu = bool(visible_gpus() if gpus is None else gpus)
    order = ("jax", "tensorflow", "torch") if on_gpu else ("tensorflow", "jax", "torch")
    for name in order:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ConfigError('no Keras backend is installed: pip install tensorflow, or pip install "stacksearch[jax]"')


def select_backend(name: str | None) -> str:
    """Make ``name`` the Keras backend (before Keras is imported); return the one in use.

    ``auto`` picks with :func:`auto_backend`; once Keras is loaded it means the active one.
    """
    if "keras" in sys.modules:
        import keras

        active = keras.backend.backend()
        if name and name not in (active, "auto"):
            raise ConfigError(
                f"Keras is already loaded with backend {active!r}; cannot switch to {name!r} "
                "in this process: set KERAS_BACKEND before importing keras"
            )
        return active
    chosen = resolve_backend(name)
    if name or resolve("backend", default=None) == "auto":  # what Keras reads on import
        os.environ[SETTINGS["backend"].env or "KERAS_BACKEND"] = chosen
    try:
        with _native_stderr_silenced():
            import keras  # noqa: F401
    except ImportError as err:
        extra = {"jax": ' (pip install "stacksearch[jax]")', "torch": " (pip install torch)"}.get(chosen, "")
        raise ConfigError(f"Keras backend {chosen!r} is not installed{extra}: {err}") from None
    return chosen


def use_compilation_cache(folder: Path) -> Path | None:
    """On JAX, keep compiled programs in ``folder`` so later trials, workers and processes reuse them.

    A new model compiles its train and test steps on its first epoch (about 4 s on 2 cores). JAX's
    persistent cache keys a compiled program by the computation itself, so a repeated architecture,
    in this process or another worker or a replacement process sharing ``folder``, loads it
    instead (docs/performance.md measures the first epoch with a warm cache). Every program is
    kept, however quick its compile. A cache folder the user set (``JAX_COMPILATION_CACHE_DIR``)
    wins. Returns the folder in use; None on other backends (nothing to do there).
    """
    if resolve_backend(None) != "jax":
        return None
    import jax

    chosen = getattr(jax.config, "jax_compilation_cache_dir", None)
    if chosen:
        return Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder


def resolve_backend(name: str | None) -> str:
    """The backend ``name`` stands for, without importing Keras.

    A backend's own name is itself. ``auto``, or no name, is the active backend once Keras
    is loaded; before that ``auto`` (or ``KERAS_BACKEND=auto``) is :func:`auto_backend`'s
    pick, and no name means ``KERAS_BACKEND``, else TensorFlow, as Keras itself would
    (the ``backend`` row of :data:`stacksearch.settings.SETTINGS`).

    Example:
        >>> resolve_backend("jax")
        'jax'
    """
    if name and name != "auto":
        return name
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    chosen = resolve("backend", flag=name, default=KERAS_DEFAULT_BACKEND)
    return auto_backend() if chosen == "auto" else chosen


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide the C++ start-up chatter TensorFlow writes to file descriptor 2 on import."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def limit_framework_threads() -> None:
    """Give TensorFlow (or torch) the thread counts ``TF_NUM_INTRAOP_THREADS`` asks for (a worker's share)."""
    threads = int(os.environ.get("TF_NUM_INTRAOP_THREADS", "0") or 0)
    backend = resolve_backend(None) if threads >= 1 else None
    if backend != "tensorflow":
        if backend == "torch":
            import torch

            torch.set_num_threads(threads)
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ.get("TF_NUM_INTEROP_THREADS", "1")))
    except RuntimeError:  # already initialised: the environment variables still apply
        pass
