"""Real servers for the tests: database servers from the environment, and a local ``mlflow server``.

PostgreSQL comes from ``STACKSEARCH_TEST_DB_URL`` and MariaDB/MySQL from
``STACKSEARCH_TEST_MYSQL_URL``. :func:`server_url` (the ``server_url`` fixture in
``tests/conftest.py``) returns such a URL or skips the test, saying why; CI sets
``STACKSEARCH_REQUIRE_SERVICES=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["SERVERS", "MlflowServer", "Server", "free_port", "server_url"]

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@dataclass(frozen=True)
class Server:
    """A database server the tests may use: the variable naming it, what it is, an example URL."""

    variable: str
    what: str
    example: str


SERVERS = {
    "postgresql": Server("STACKSEARCH_TEST_DB_URL", "PostgreSQL", "postgresql+psycopg://root@127.0.0.1:5432/test"),
    "mysql": Server("STACKSEARCH_TEST_MYSQL_URL", "MariaDB/MySQL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


@functools.cache
def _unreachable(url: str) -> str | None:
    """Why the server at ``url`` does not answer ``SELECT 1`` (None: it does). Asked once a session."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any failure means: not reachable here
        return str(getattr(err, "orig", err)).strip().splitlines()[0]
    return None


def server_url(backend: str) -> str:
    """The URL of the ``backend`` test server (a key of :data:`SERVERS`) if it answers; otherwise skip.

    Example:
        >>> url = server_url("postgresql")  # doctest: +SKIP
    """
    from stacksearch.storage import mask_url

    server = SERVERS[backend]
    url = os.environ.get(server.variable)
    if not url:
        pytest.skip(
            f"{server.variable} is not set: no {server.what} server to test against "
            f"(CI sets it; e.g. {server.variable}={server.example})"
        )
    reason = _unreachable(url)
    if reason is not None:
        pytest.skip(f"{server.what} at {mask_url(url)} is not reachable: {reason}")
    return url


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MlflowServer:
    """A real ``mlflow server`` process (SQLite backend, proxied artifacts) on 127.0.0.1.

    Example:
        >>> server = MlflowServer(tmp_path).start()  # doctest: +SKIP
        >>> server.uri  # doctest: +SKIP
        'http://127.0.0.1:40123'
    """

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = folder / "mlflow-server.log"

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def start(self, timeout: float = 180.0) -> MlflowServer:
        command = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{self.folder / 'server.db'}",
            "--artifacts-destination",
            str(self.folder / "artifacts"),
        ]
        with open(self.log, "ab") as log:
            env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder, env=env
            )
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mlflow server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while self.healthy() and time.monotonic() < deadline:
            time.sleep(0.2)
