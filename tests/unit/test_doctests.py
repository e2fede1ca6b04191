"""The examples in every module's docstrings run and print what they show (those marked +SKIP need training,
a server or files a user has)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import optuna
import pytest

import stacksearch

DEPRECATED = {
    "stacksearch.runner",
    "stacksearch.workers",
    "stacksearch.tracking_util",
    "stacksearch.tracking_store",
    "stacksearch.tracking_sync",
}  # forwarders to the new homes, whose examples run there
MODULES = ["stacksearch"] + sorted(
    info.name for info in pkgutil.walk_packages(stacksearch.__path__, "stacksearch.") if info.name not in DEPRECATED
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    finally:
        optuna.logging.set_verbosity(verbosity)
    assert result.failed == 0
