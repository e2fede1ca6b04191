"""The test suite's own rules (tests/conftest.py): server URLs or skips, skips failing in CI, no training here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def test_server_url_skips_saying_which_variable_is_unset_or_which_server_is_down(
    server_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STACKSEARCH_TEST_MYSQL_URL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="STACKSEARCH_TEST_MYSQL_URL is not set: no MariaDB/MySQL server"):
        server_url("mysql")
    monkeypatch.setenv("STACKSEARCH_TEST_DB_URL", "postgresql+psycopg://me:secret@127.0.0.1:1/x")
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL at \S+//me:\*\*\*@127.0.0.1:1/x is not"):
        server_url("postgresql")


def test_in_ci_a_skip_is_a_failure_unless_it_says_optional(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome(message: str) -> str:
        call = pytest.CallInfo.from_call(lambda: pytest.skip(message), when="setup")
        return request.node.ihook.pytest_runtest_makereport(item=request.node, call=call).outcome

    monkeypatch.setenv("STACKSEARCH_REQUIRE_SERVICES", "1")
    assert outcome("STACKSEARCH_TEST_DB_URL is not set") == "failed"
    assert outcome("optional: optuna-dashboard is not installed here") == "skipped"
    monkeypatch.delenv("STACKSEARCH_REQUIRE_SERVICES")
    assert outcome("STACKSEARCH_TEST_DB_URL is not set") == "skipped"


@pytest.fixture
def keras() -> Any:
    import keras

    return keras


def test_a_real_keras_fit_fails_a_test_outside_integration(keras: Any) -> None:
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(pytest.fail.Exception, match="this test trains a Keras model"):
        model.fit(np.zeros((4, 3, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
