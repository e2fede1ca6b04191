"""Shared fixtures and hooks; the helpers behind them live in ``tests/support/``.

- Everything under ``tests/integration/`` is marked ``integration``; ``pytest -m "not integration"``
  is the fast subset, and in it a real Keras ``fit`` fails the test (drive training code with
  ``tests.support.fake_model.ScriptedModel`` instead).
- ``server_url("postgresql")`` / ``server_url("mysql")`` give a real database server's URL or
  skip; with ``STACKSEARCH_REQUIRE_SERVICES=1`` (CI) every skip not marked ``optional:`` fails.
- Before each test module the heap is frozen (``gc.freeze``), so that garbage collections,
  one per trial in Keras's ``clear_session``, stay cheap.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import optuna
import pytest

from tests.support import servers, tracking

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

_OVERRIDES = ("STACKSEARCH_STORAGE", "MLFLOW_TRACKING_URI")
_INTEGRATION = Path(__file__).parent / "integration"


# ---------------------------------------------------------------- folders and data


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in an empty folder with no storage/tracking overrides in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in _OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def tiny_regression():
    """A SequenceData small enough to train in about a second."""
    from stacksearch import benchmarks

    return benchmarks.load("adding", length=8, n_train=128, n_val=64, n_test=64)


@pytest.fixture
def no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports written without drawing their figures (seconds each), for tests of the tables and text only."""
    from stacksearch.report import writer

    monkeypatch.setattr(writer, "render_figures", lambda *args, **kwargs: {})


# ---------------------------------------------------------------- database servers


@pytest.fixture(scope="session")
def server_url() -> Callable[[str], str]:
    """``server_url("postgresql")`` or ``server_url("mysql")``: the test server's URL, or skip saying why."""
    return servers.server_url


@pytest.fixture
def cleanup() -> Iterator[list[tuple[str, str]]]:
    """Register (study name, storage URL) pairs; each study is deleted after the test."""
    made: list[tuple[str, str]] = []
    yield made
    for name, url in made:
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=name, storage=url)


# ---------------------------------------------------------------- MLflow


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.MlflowServer]:
    """One real MLflow tracking server for the whole session (tests use their own studies)."""
    server = servers.MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow SQLite database (migrating takes seconds; copying does not)."""
    return tracking.migrated_db(tmp_path_factory.mktemp("mlflow-template") / "mlflow.db")


@pytest.fixture
def sqlite_uri(mlflow_db_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite tracking store of this test's own."""
    return tracking.copy_db(mlflow_db_template, tmp_path / "mlflow.db")


@pytest.fixture(params=["sqlite", "server"])
def tracking_uri(request: pytest.FixtureRequest, mlflow_db_template: Path, tmp_path: Path) -> str:
    """An MLflow tracking URI: an SQLite file, then a real server."""
    if request.param == "sqlite":
        return tracking.copy_db(mlflow_db_template, tmp_path / "mlflow.db")
    return request.getfixturevalue("mlflow_server").uri


# ---------------------------------------------------------------- markers, skips, no training


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration/ ``integration`` (before ``-m`` selects)."""
    for item in items:
        if _INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


def _fast_subset(config: pytest.Config) -> bool:
    """Whether this run is the fast subset, ``-m "not integration"``."""
    return " ".join((config.option.markexpr or "").split()) == "not integration"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The fast subset does not even import the integration tests."""
    return True if collection_path == _INTEGRATION and _fast_subset(config) else None


def _refuse_fit(*args: object, **kwargs: object) -> None:
    pytest.fail(
        "this test trains a Keras model: put it under tests/integration/ or mark it integration, "
        "or drive the code with tests.support.fake_model.ScriptedModel",
        pytrace=False,
    )


def _freeze_heap() -> None:
    """Hide every object alive now from the garbage collector, for good.

    Keras's ``clear_session`` (once a trial) and Python's own full collections then skip the
    millions of objects the imports made (TensorFlow's, MLflow's): milliseconds instead of
    about a second each on a 2-core machine. Objects freed later by reference counting are
    still freed; only cycles among them would stay.
    """
    gc.collect()
    gc.freeze()


def _loaded_keras(item: pytest.Item) -> ModuleType | None:
    """Keras if loaded (in the fast subset loaded now, so that no test escapes by importing it first)."""
    if "keras" not in sys.modules and _fast_subset(item.config):
        import keras  # noqa: F401
    return sys.modules.get("keras")


@contextlib.contextmanager
def _no_training(item: pytest.Item) -> Iterator[None]:
    """Outside ``integration`` tests, a real ``keras.Model.fit`` fails the test."""
    keras = _loaded_keras(item)
    if keras is None or item.get_closest_marker("integration") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "fit", _refuse_fit)
        yield


_FROZEN_FOR = pytest.StashKey[Path]()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """No training; and at a module's first test, once its imports and the last module's fixtures are done, a freeze."""
    with _no_training(item):
        if item.config.stash.get(_FROZEN_FOR, None) != item.path:
            item.config.stash[_FROZEN_FOR] = item.path
            _freeze_heap()
        return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _no_training(item):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """In CI (STACKSEARCH_REQUIRE_SERVICES=1) a skipped test is a failure: CI must run them all."""
    if os.environ.get("STACKSEARCH_REQUIRE_SERVICES") != "1" or call.excinfo is None:
        return None
    if call.excinfo.errisinstance(pytest.skip.Exception) and "optional:" not in str(call.excinfo.value):
        from _pytest.reports import TestReport

        report = TestReport.from_item_and_call(item, call)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must be reachable: {call.excinfo.value}"
        return report
    return None
