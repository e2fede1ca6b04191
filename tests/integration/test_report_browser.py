"""Open report.html in headless Chromium: no console errors, no external requests, every figure rendered.

Needs Debian's ``chromium`` package (``apt-get install -y chromium``); skipped without it.
A copy of the page gets a checker script as the first thing in <head>: it records errors
(scripts, failed resources, ``console.error``) and, once loaded, every image's natural size
and any resource fetched from outside the page, into a <pre> that ``--dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stacksearch.report import write_report
from tests.support.reports import FAIL, PRUNED, study_of, trial

pytestmark = pytest.mark.integration

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)

CHECKER = """<script>
window.__errors = [];
window.addEventListener("error", (e) => {
  window.__errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || "error"));
}, true);
const originalError = console.error;
console.error = (...args) => { window.__errors.push(args.join(" ")); originalError(...args); };
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const external = performance.getEntriesByType("resource").map((r) => r.name).filter((n) => !n.startsWith("data:"));
  const result = {
    images: images.map((img) => ({
      alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
    })),
    errors: window.__errors,
    external: external,
  };
  const out = document.createElement("pre");
  out.id = "report-check";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    trials = [
        trial(
            1 + i % 3,
            16 * (1 + i % 4),
            0.6 - 0.1 * (i % 3) + 0.01 * i,
            n_params=900 * (1 + i % 3) + 50 * i,
            lr=10 ** -(2 + i % 3),
            curve=[0.9, 0.7, 0.6 - 0.1 * (i % 3) + 0.01 * i],
        )
        for i in range(18)
    ]
    trials += [trial(2, 16, state=PRUNED, curve=[0.95]), trial(3, 64, state=FAIL, fail_reason="nan loss")]
    confirmation = {
        "seeds": 3,
        "results": [
            {"depth": d, "widths": [16] * d, "trial": d, "values": [0.6 - 0.1 * d + 0.01 * s for s in range(3)]}
            for d in (1, 2, 3)
        ],
    }
    study = study_of(*trials, metric="mse", baseline=0.7, confirmation=confirmation)
    return write_report(study, tmp_path_factory.mktemp("browser"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed: apt-get install -y chromium")
def test_report_renders_in_headless_chromium_without_errors(report: dict[str, Path]) -> None:
    page = report["html"]
    harness = page.with_name("harness.html")
    harness.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + CHECKER, 1), encoding="utf-8")
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={page.parent / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            harness.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    found = re.search(r'<pre id="report-check">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the checker did not run (exit {run.returncode}):\n{run.stderr[-3000:]}"
    result = json.loads(html.unescape(found.group(1)))
    figures = sorted(name for name in report if name not in ("html", "csv", "summary", "verdict"))
    assert len(result["images"]) == len(figures) == 8
    for image in result["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert result["errors"] == []
    assert result["external"] == []
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
