"""Old import paths keep working for one release, each with a DeprecationWarning naming the new home."""

from __future__ import annotations

import importlib

import pytest

MOVED = [
    ("stacksearch.runner", "run_study", "stacksearch.search.loop"),
    ("stacksearch.runner", "make_sampler", "stacksearch.search.setup"),
    ("stacksearch.runner", "load_study_data", "stacksearch.sources"),
    ("stacksearch.workers", "run_workers", "stacksearch.search.pool"),
    ("stacksearch.workers", "visible_gpus", "stacksearch.host"),
    ("stacksearch.tracking_util", "trial_params", "stacksearch.tracking.runs"),
    ("stacksearch.tracking_store", "TrackerBase", "stacksearch.tracking.calls"),
    ("stacksearch.tracking_sync", "sync_mlflow", "stacksearch.tracking.sync"),
    ("stacksearch.tracking_sync", "serve_ui", "stacksearch.tracking.ui"),
    ("stacksearch.model", "select_backend", "stacksearch.backend"),
    ("stacksearch.data", "load_data_section", "stacksearch.sources"),
]


@pytest.mark.parametrize("old, name, new", MOVED)
def test_an_old_path_warns_and_gives_the_same_object(old: str, name: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated .* use {new}\.{name}"):
        value = getattr(importlib.import_module(old), name)
    assert value is getattr(importlib.import_module(new), name)


def test_an_unknown_name_on_an_old_path_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        importlib.import_module("stacksearch.runner").nothing  # noqa: B018
