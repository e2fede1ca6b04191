"""Deprecated: moved to :mod:`stacksearch.tracking.runs`; kept for one release."""

import importlib

from stacksearch._moved import warn_moved


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(name)
    warn_moved(f"stacksearch.tracking_util.{name}", f"stacksearch.tracking.runs.{name}")
    return getattr(importlib.import_module("stacksearch.tracking.runs"), name)
