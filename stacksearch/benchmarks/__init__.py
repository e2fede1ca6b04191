"""Registry of built-in sequence benchmarks, each loaded as a :class:`SequenceData`.

Example:
    >>> from stacksearch import benchmarks
    >>> "adding" in benchmarks.names()
    True
    >>> data = benchmarks.load("adding", length=20, n_train=64, n_val=32, n_test=32)
    >>> data.x_train.shape
    (64, 20, 2)
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError

__all__ = ["Benchmark", "names", "load", "get", "register", "describe", "require"]

# Modules that register benchmarks when imported (kept lazy: some need optional packages).
_MODULES = ("synthetic", "forecasting", "uea", "known")


@dataclass(frozen=True)
class Benchmark:
    """A named loader ``(**args) -> SequenceData`` with a one-line summary."""

    name: str
    loader: Callable[..., SequenceData]
    summary: str
    extra: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The loader's arguments and their default values."""
        return {
            p.name: p.default
            for p in inspect.signature(self.loader).parameters.values()
            if p.default is not inspect.Parameter.empty
        }


_REGISTRY: dict[str, Benchmark] = {}
_loaded = False


def register(name: str, summary: str, extra: str | None = None) -> Callable:
    """Decorator that adds a loader to the registry under ``name``."""

    def wrap(loader: Callable[..., SequenceData]) -> Callable[..., SequenceData]:
        _REGISTRY[name] = Benchmark(name, loader, summary, extra)
        return loader

    return wrap


def require(module: str, benchmark: str, extra: str = "benchmarks") -> ModuleType:
    """Import an optional package a benchmark needs, or raise :class:`ConfigError` naming the extra.

    Example:
        >>> require("numpy", "demo").__name__
        'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"benchmark {benchmark!r} needs the optional package {module.split('.')[0]!r}: "
            f'pip install "stacksearch[{extra}]"'
        ) from None


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True


def names() -> list[str]:
    """Names of all built-in benchmarks, sorted."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def get(name: str) -> Benchmark:
    """The :class:`Benchmark` called ``name``; a near miss is suggested for typos."""
    _ensure_loaded()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"unknown benchmark {name!r}; {hint}available: {', '.join(sorted(_REGISTRY))} "
            "(see `stacksearch benchmarks`)"
        )
    return _REGISTRY[name]


def check_args(name: str, args: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` for an argument the benchmark's loader does not take."""
    known = get(name).defaults()
    for key in args:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"benchmark.args.{key}: unknown argument for benchmark {name!r};{hint} "
                f"it takes {', '.join(known) or 'no arguments'}"
            )


def load(name: str, **args: Any) -> SequenceData:
    """Load benchmark ``name`` with loader arguments ``args`` (validated first)."""
    check_args(name, args)
    data = get(name).loader(**args)
    data.meta.setdefault("args", {**get(name).defaults(), **args})
    return data


def describe(name: str, **args: Any) -> dict[str, Any]:
    """Load benchmark ``name`` and return its plain-data description (``SequenceData.info``)
    with the summary and the optional extra it needs.

    Example:
        >>> describe("adding", n_train=8, n_val=4, n_test=4)["shapes"]["train"]
        [8, 50, 2]
    """
    bench = get(name)
    return {"summary": bench.summary, "extra": bench.extra, **load(name, **args).info()}
