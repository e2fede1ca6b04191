"""analyse and write_report build each table once; the public functions still build their own."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from stacksearch.report import analyse, band_winners, collect, importance, iso, tables, verdict, write_report
from stacksearch.report import confirmation as confirmation_module
from tests.support.reports import CONFIRMATION, small_study, study_of, trial

COUNTED = {
    "iso_param_table": iso,
    "band_winners": iso,
    "depth_summary": tables,
    "depth_width_table": tables,
    "confirmation_summary": confirmation_module,
    "param_importances": importance,
}


def count_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of the calls to each table function in :data:`COUNTED`, wherever it was imported."""
    calls: Counter[str] = Counter()
    for name, home in COUNTED.items():
        original = getattr(home, name)

        def spy(*args, _name=name, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            calls[_name] += 1
            return _original(*args, **kwargs)

        for module_name, module in list(sys.modules.items()):
            if module_name.startswith("stacksearch.report") and getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, spy)
    return calls


def banded_study():  # type: ignore[no-untyped-def]
    """Two depths sharing parameter bands, with confirmation results."""
    trials = [trial(1 + i % 2, 16, 0.5 - 0.1 * (i % 2) + 0.01 * i, n_params=1100 + 50 * i) for i in range(12)]
    return study_of(*trials, confirmation=CONFIRMATION)


def test_write_report_builds_each_table_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = count_calls(monkeypatch)
    write_report(small_study(confirmation=CONFIRMATION), tmp_path)
    assert calls == dict.fromkeys(COUNTED, 1)


def test_analyse_builds_each_table_once(monkeypatch: pytest.MonkeyPatch) -> None:
    data = collect(banded_study())
    calls = count_calls(monkeypatch)
    analysis = analyse(data)
    assert calls == dict.fromkeys(COUNTED, 1)
    assert analysis.band_winners and analysis.confirmation is not None


def test_verdict_on_its_own_builds_what_it_is_not_given_and_agrees_with_analyse() -> None:
    data = collect(banded_study())
    analysis = analyse(data)
    alone = verdict(data)
    assert alone == analysis.verdict
    assert "At matched parameter counts (1 factor-2 bands" in alone.lines[2]
    assert alone.confirmation in ("confirmed", "not confirmed")
    assert band_winners(data) == band_winners(data, bands=analysis.bands) == analysis.band_winners
