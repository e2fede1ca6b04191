"""The examples in the report package's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import optuna
import pytest

import stacksearch.report

MODULES = ["stacksearch.report"] + [
    f"stacksearch.report.{info.name}" for info in pkgutil.iter_modules(stacksearch.report.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    finally:
        optuna.logging.set_verbosity(verbosity)
    assert result.failed == 0
