"""Write the report files, from a study object or from a storage URL and study name.

Example:
    >>> import optuna, tempfile
    >>> study = optuna.create_study(study_name="demo")
    >>> study.add_trial(optuna.trial.create_trial(value=0.2, user_attrs={"depth": 1, "widths": [8], "n_params": 400}))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     files = write_report(study, out)
    >>> files["html"].name, files["csv"].name, files["verdict"].name
    ('report.html', 'depth_width.csv', 'verdict.json')
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from dataclasses import astuple
from pathlib import Path
from typing import Any

import optuna

from stacksearch.exceptions import NoCompletedTrialError, StorageError
from stacksearch.report.analysis import analyse
from stacksearch.report.fast_load import read_trials
from stacksearch.report.figures import render_figures
from stacksearch.report.html import render_html
from stacksearch.report.markdown import render_markdown
from stacksearch.report.tables import DEPTH_WIDTH_COLUMNS, DepthWidthRow
from stacksearch.report.trials import StudyData, StudyLike, as_data, collect
from stacksearch.report.verdict_json import verdict_record
from stacksearch.storage import mask_url, open_storage, sqlite_file

__all__ = ["write_report", "report_for", "open_study", "default_out_dir"]


def write_report(study: StudyLike, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``report.html``, ``depth_width.csv``, ``summary.md``, ``verdict.json`` and one PNG per figure.

    ``study`` is an ``optuna.Study`` or the :class:`StudyData` collected from one. Where the study
    searched several stack variants, the CSV holds each variant's own rows with a last ``variant`` column.

    Returns the paths written: keys ``"html"``, ``"csv"``, ``"summary"``, ``"verdict"`` and each
    figure's name (``"heatmap"``, ``"iso_params"``, ...). Raises :class:`NoCompletedTrialError` when
    no trial of ``study`` has completed.

    Example:
        >>> import stacksearch as ss                          # doctest: +SKIP
        >>> ss.write_report(study, "reports/mine")["html"]   # doctest: +SKIP
        PosixPath('reports/mine/report.html')
    """
    data = as_data(study)
    if not data.scored:
        raise NoCompletedTrialError(_nothing_completed(data))
    analysis = analyse(data)
    figures = render_figures(
        data,
        depth_width=analysis.depth_width,
        cost=analysis.cost,
        curves=analysis.curves,
        importances=analysis.importances,
        confirmation=analysis.confirmation,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, image in figures.items():
        paths[name] = out / f"{name}.png"
        paths[name].write_bytes(image)
    paths["csv"] = out / "depth_width.csv"
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if analysis.variants:
            writer.writerow((*DEPTH_WIDTH_COLUMNS, "variant"))
            for table in analysis.variants:
                writer.writerows([*_cells(row), table.variant] for row in table.depth_width)
        else:
            writer.writerow(DEPTH_WIDTH_COLUMNS)
            writer.writerows(_cells(row) for row in analysis.depth_width)
    paths["verdict"] = out / "verdict.json"
    record = verdict_record(analysis.answer, analysis.variant_call)
    paths["verdict"].write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    paths["summary"] = out / "summary.md"
    paths["summary"].write_text(render_markdown(analysis, [f"{name}.png" for name in figures]), encoding="utf-8")
    paths["html"] = out / "report.html"
    paths["html"].write_text(render_html(analysis, figures), encoding="utf-8")
    return paths


def report_for(storage_url: str, study_name: str, out: str | os.PathLike[str] | None = None) -> Path:
    """Load ``study_name`` from ``storage_url``, write its report, return the ``report.html`` path.

    ``out`` defaults to ``reports/<study>/``. Raises :class:`StorageError` when the
    database or the study does not exist (naming the studies there), and
    :class:`NoCompletedTrialError` when nothing completed.
    On RDB storage the trials are read straight from Optuna's tables
    (:func:`stacksearch.report.fast_load.read_trials`), else through Optuna.

    Example:
        >>> report_for("sqlite:///stacksearch.db", "adding-t50")   # doctest: +SKIP
        PosixPath('reports/adding-t50/report.html')
    """
    study = open_study(storage_url, study_name)
    data = collect(study, read_trials(study))
    return write_report(data, out if out is not None else default_out_dir(study_name))["html"]


def open_study(storage_url: str, study_name: str) -> optuna.Study:
    """Load an existing study; :class:`StorageError` naming the studies there when it is absent.

    Never creates anything: a missing SQLite file is an error too.

    Example:
        >>> open_study("sqlite:///stacksearch.db", "adding-t50").study_name   # doctest: +SKIP
        'adding-t50'
    """
    _require_sqlite_file(storage_url)
    storage = open_storage(storage_url, heartbeat=False)
    names = optuna.get_all_study_names(storage)
    if study_name not in names:
        listed = ", ".join(sorted(names)) or "none"
        raise StorageError(f"no study {study_name!r} in {mask_url(storage_url)}; studies there: {listed}")
    return optuna.load_study(study_name=study_name, storage=storage)


def default_out_dir(study_name: str) -> Path:
    """``reports/<study>``, with characters unsafe in a folder name replaced by ``_``.

    Example:
        >>> default_out_dir("adding/T=50")
        PosixPath('reports/adding_T_50')
    """
    return Path("reports") / re.sub(r"[^\w.-]+", "_", study_name)


def _cells(row: DepthWidthRow) -> list[Any]:
    return ["" if v is None else v for v in astuple(row)]


def _require_sqlite_file(url: str) -> None:
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StorageError(f"no database file {str(path)!r} for {mask_url(url)}: check the --storage URL")


def _nothing_completed(data: StudyData) -> str:
    if not data.trials:
        return f"study {data.study_name!r} has no trials yet: nothing to report"
    states = Counter(r.state.name.lower() for r in data.trials)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return (
        f"study {data.study_name!r} has no completed trial ({counts}): nothing to report; "
        "run more trials, or look at the trials' fail_reason and reject_reason"
    )
