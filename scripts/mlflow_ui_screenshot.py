"""Run a study, open its MLflow UI in headless Chromium, check the nested trial runs, screenshot it.

Usage (the README's picture; the quickstart takes about 3 minutes on 2 CPU cores):
    python scripts/mlflow_ui_screenshot.py --study-file studies/quickstart.yaml --out docs/img/mlflow-ui.png

Needs Debian's ``chromium`` (``apt-get install chromium``). Chromium is driven over the
DevTools protocol with aiohttp (an MLflow dependency): the script expands the study's parent
run, checks that every trial run ``trial-<n>`` is listed under it, and saves a PNG. Exits 1
when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

_CLOSE_ASSISTANT = """(() => {
  const panel = [...document.querySelectorAll('*')].find(e => e.childElementCount < 3
      && /MLflow Assistant/.test(e.textContent || ''));
  if (!panel) return false;
  let node = panel;
  for (let i = 0; i < 8 && node; i++, node = node.parentElement) {
    const close = node.querySelector && node.querySelector('button[aria-label="Close"]');
    if (close) { close.click(); return true; }
  }
  return false;
})()"""
_EXPAND_PARENT = """((name) => {
  const link = [...document.querySelectorAll('a')].find(a => a.textContent.trim() === name
      && /#\\/experiments\\/[^/]+\\/runs\\//.test(a.getAttribute('href') || ''));
  if (!link) return false;
  const row = link.closest('[role="row"]') || link.parentElement.parentElement.parentElement;
  const button = row.querySelector('button[data-component-id*="runnamecellrenderer"]');
  if (!button) return false;
  button.click();
  return true;
})"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevTools:
    """The few Chrome DevTools protocol calls this script needs, over one websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id = ws, 0

    async def send(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == self.next_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
        raise RuntimeError("Chromium closed the DevTools connection")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not await self.evaluate(expression):
            if time.monotonic() > deadline:
                text = await self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
                raise RuntimeError(f"timed out waiting for {what}; the page shows:\n{text}")
            await asyncio.sleep(0.5)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("Chromium is missing: apt-get install chromium")


async def capture(
    url: str, parent: str, trials: list[str], out: Path, *, size: tuple[int, int] = (1500, 900), timeout: float = 120.0
) -> None:
    """Open ``url``, expand run ``parent``, check ``trials`` are listed, save a PNG to ``out``."""
    import aiohttp

    port = _free_port()
    profile = tempfile.mkdtemp(prefix="chromium-")
    command = [
        _chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--remote-debugging-port={port}",
        "--remote-allow-origins=*",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "about:blank",
    ]
    browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, pages = time.monotonic() + 60, []
        while not pages:
            with contextlib.suppress(OSError, ValueError):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    pages = [p for p in json.load(response) if p.get("type") == "page"]
            if not pages and time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            await asyncio.sleep(0.3)
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws,
        ):
            tools = DevTools(ws)
            await tools.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False},
            )
            await tools.send("Page.navigate", {"url": url})
            await tools.wait_for(
                f"!!(document.body && document.body.innerText.includes({json.dumps(parent)})"
                " && document.querySelector('button[data-component-id*=\"runnamecellrenderer\"]'))",
                timeout,
                f"the parent run {parent!r}",
            )
            await tools.evaluate(_CLOSE_ASSISTANT)
            listed = " || ".join(f"document.body.innerText.includes({json.dumps(t)})" for t in trials)
            if await tools.evaluate(listed):
                raise RuntimeError("trial runs are listed before their parent run is expanded: not nested")
            if not await tools.evaluate(f"{_EXPAND_PARENT}({json.dumps(parent)})"):
                raise RuntimeError(f"no expander on the parent run {parent!r}")
            checks = " && ".join(f"document.body.innerText.includes({json.dumps(t)})" for t in trials)
            await tools.wait_for(checks, 30, f"the nested trial runs {trials}")
            await asyncio.sleep(1.5)
            shot = await tools.send("Page.captureScreenshot", {"format": "png"})
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study-file", default="studies/quickstart.yaml")
    parser.add_argument("--n-trials", type=int, help="override the study's n_trials")
    parser.add_argument("--workdir", help="where the databases go (default: a new temporary folder)")
    parser.add_argument("--out", default="docs/img/mlflow-ui.png")
    parser.add_argument("--port", type=int, default=0, help="MLflow UI port (default: a free one)")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import optuna

    from stacksearch.config import load_config
    from stacksearch.search import run_study
    from stacksearch.tracking import MLflowTracker, serve_ui
    from stacksearch.tracking.ui import stop_ui

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="stacksearch-ui-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
    config = load_config(
        Path(args.study_file),
        n_trials=args.n_trials,
        storage=f"sqlite:///{workdir / 'stacksearch.db'}",
        tracking_uri=tracking_uri,
    )
    config.report.enabled = False
    started = time.monotonic()
    study = run_study(config)
    print(f"study {study.study_name}: {len(study.trials)} trials in {time.monotonic() - started:.0f} s")
    MLflowTracker(tracking_uri).close(study)  # best trial on the parent run, which ends FINISHED
    experiment_id = study.user_attrs["mlflow_experiment_id"]
    trials = [f"trial-{t.number}" for t in study.get_trials(deepcopy=False)]
    process = serve_ui(tracking_uri, args.port or _free_port(), block=False)
    try:
        url = f"http://127.0.0.1:{process.args[process.args.index('--port') + 1]}/#/experiments/{experiment_id}/runs"
        asyncio.run(capture(url, study.study_name, trials, Path(args.out)))
    except RuntimeError as err:
        print(f"mlflow-ui check failed: {err}", file=sys.stderr)
        return 1
    finally:
        stop_ui(process)
    print(f"nested runs {', '.join(trials)} shown under {study.study_name!r}; screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
