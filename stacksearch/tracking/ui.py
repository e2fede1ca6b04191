"""The MLflow UI (``stacksearch ui``): an ``mlflow server`` on this machine against the tracking URI.

Example:
    >>> serve_ui("sqlite:///mlflow.db", 5000)  # doctest: +SKIP
    MLflow UI: http://127.0.0.1:5000  (tracking sqlite:///mlflow.db; Ctrl-C stops it)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable

from stacksearch.exceptions import TrackingError
from stacksearch.settings import resolve
from stacksearch.tracking.runs import check_uri, mask_url

__all__ = ["serve_ui", "stop_ui"]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def serve_ui(
    tracking_uri: str | None = None,
    port: int = 5000,
    *,
    host: str = "127.0.0.1",
    block: bool = True,
    timeout: float = 180.0,
    echo: Callable[[str], object] = print,
) -> subprocess.Popen | None:
    """Start the MLflow UI on ``host:port`` against ``tracking_uri`` and print its address.

    With ``block`` it serves until Ctrl-C; otherwise it returns the running server process
    once the UI answers (stop it with :func:`stop_ui`). An ``http(s)://`` tracking URI is
    already a server: its address is printed and nothing is started. Without ``tracking_uri``:
    ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (:mod:`stacksearch.settings`).

    Example:
        >>> serve_ui("sqlite:///mlflow.db", 5000)  # doctest: +SKIP
        MLflow UI: http://127.0.0.1:5000  (tracking sqlite:///mlflow.db; Ctrl-C stops it)
    """
    uri = check_uri(resolve("tracking_uri", flag=tracking_uri))
    if uri.startswith(("http://", "https://")):
        echo(f"MLflow UI: {mask_url(uri)}  (the tracking server itself)")
        return None
    url = f"http://{host}:{port}"
    if _healthy(url):
        raise TrackingError(f"port {port} is already serving something at {url}; choose another --port")
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": uri}  # not on the command line: ps shows that
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")  # GenAI job runners: 7 idle processes
    command = [sys.executable, "-m", "mlflow", "server", "--host", host, "--port", str(port), "--workers", "1"]
    quiet = None if block else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_ui(process)
            raise TrackingError(f"the MLflow UI did not start on {url} (tracking {mask_url(uri)})")
        time.sleep(0.5)
    echo(f"MLflow UI: {url}  (tracking {mask_url(uri)}{'; Ctrl-C stops it' if block else ''})")
    if not block:
        return process
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_ui(process)
    return None


def stop_ui(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a server that :func:`serve_ui` started (its whole process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
