"""write_report and report_for: the files, their contents, self-containment and the errors."""

from __future__ import annotations

import ast
import base64
import csv
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest

import stacksearch as ss
from stacksearch.exceptions import NoCompletedTrialError, StackSearchError, StorageError
from stacksearch.report import DEPTH_WIDTH_COLUMNS, default_out_dir, open_study, report_for, write_report
from tests.support.reports import CONFIRMATION, FAIL, PRUNED, small_study, study_of, trial

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report of :func:`small_study` with confirmation results (written once per module)."""
    return ss.write_report(small_study(confirmation=CONFIRMATION), tmp_path_factory.mktemp("report") / "out")


FIGURES = {"heatmap", "iso_params", "cost", "learning_curves", "history", "parallel", "importances", "confirmation"}


def test_write_report_writes_every_file_and_returns_their_paths(written: dict[str, Path]) -> None:
    out = written["html"].parent
    assert written["html"] == out / "report.html" and out.name == "out"
    assert written["csv"] == out / "depth_width.csv" and written["summary"] == out / "summary.md"
    assert set(written) == {"html", "csv", "summary", "verdict"} | FIGURES
    assert written["verdict"] == out / "verdict.json"
    for name in FIGURES:
        assert written[name] == out / f"{name}.png"
        assert written[name].read_bytes().startswith(PNG_SIGNATURE)


def test_html_is_self_contained_with_every_figure_inline(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) == len(FIGURES)
    inline = {base64.b64decode(src.split(",", 1)[1]) for src in images}
    assert inline == {written[name].read_bytes() for name in FIGURES}
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not [tag for tag, attrs in page.tags if tag in ("script", "link", "iframe", "object", "embed")]
    assert "http://" not in text and "https://" not in text and "url(" not in text


def test_html_and_summary_carry_the_verdict_outcomes_and_figures(written: dict[str, Path]) -> None:
    html = written["html"].read_text(encoding="utf-8")
    summary = written["summary"].read_text(encoding="utf-8")
    assert "12 completed, 1 pruned, 0 rejected, 1 failed, 0 running" in html
    assert "nan loss" in html
    assert summary.splitlines()[2].startswith("**Depth 2 wins: it beats depth 1 by more than the margin 0.0145 mse")
    assert (
        "In the search, depth 2 leads clear of every other depth; retrained with fresh seeds: depth 2 wins." in summary
    )
    assert "![heatmap](heatmap.png)" in summary and "![confirmation](confirmation.png)" in summary


def test_confirmation_results_are_rendered_with_the_answers_tests(written: dict[str, Path]) -> None:
    html = written["html"].read_text(encoding="utf-8")
    assert "<h3>Tests of the answer</h3>" in html
    assert "<td>2 vs 1</td><td>beats by more than 0.0145</td>" in html and "<th>p &lt; 0.05</th>" in html
    assert "<td>1 vs 2</td><td>within ±0.0145</td>" in html
    assert "Holm over all 2 ordered pairs" in html


def test_csv_holds_the_depth_width_table(tmp_path: Path, no_figures: None) -> None:
    study = study_of(
        trial(1, 16, 0.5, n_params=1100), trial(1, 16, 0.3, n_params=1100), trial(2, 32, state=PRUNED, n_params=9000)
    )
    with write_report(study, tmp_path)["csv"].open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        list(DEPTH_WIDTH_COLUMNS),
        ["1", "16", "2", "2", "0.3", "0.4", "1", "1100.0"],
        ["2", "32", "1", "0", "", "", "", "9000.0"],
    ]
    assert DEPTH_WIDTH_COLUMNS == (
        "depth",
        "width",
        "n_trials",
        "n_complete",
        "best_value",
        "median_value",
        "best_trial",
        "median_n_params",
    )


def test_the_cost_section_states_the_limit_ratio_when_the_run_recorded_it(tmp_path: Path, no_figures: None) -> None:
    study = study_of(trial(1, 16, 0.5, n_params=1100), trial(2, 16, 0.3, n_params=2100))
    plain = write_report(study, tmp_path / "plain")["summary"].read_text(encoding="utf-8")
    limit = {"wall_seconds": 95.0, "workers": 2, "worker_seconds": 190.0, "steady_seconds": 41.0, "ratio": 4.634}
    study.set_user_attr("limit", {**limit, "runs": 1})
    paths = write_report(study, tmp_path / "limited")
    expected = "Wall 95 s (1 run, 2.0 workers on average), of which steady epochs 41 s: 4.6x the limit"
    assert "the limit" not in plain and expected in paths["summary"].read_text(encoding="utf-8")
    assert expected in paths["html"].read_text(encoding="utf-8")


def test_one_trial_and_one_depth_still_make_a_report(tmp_path: Path) -> None:
    paths = write_report(study_of(trial(3, 64, 0.2, n_params=80000)), tmp_path)
    assert "Only depth 3 was searched" in paths["html"].read_text(encoding="utf-8")
    assert {"heatmap", "iso_params", "history"} <= set(paths)


def test_multi_objective_study_reports_the_best_score_on_the_pareto_front(tmp_path: Path, no_figures: None) -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    for i, (value, n_params) in enumerate(((0.7, 500.0), (0.9, 900.0), (0.6, 800.0))):
        study.add_trial(
            optuna.trial.create_trial(
                values=[value, n_params], user_attrs={"depth": 1 + i % 2, "widths": [8] * (1 + i % 2)}
            )
        )
    html = write_report(study, tmp_path)["html"].read_text(encoding="utf-8")
    assert "the best value on the Pareto front is shown" in html and "#1" in html


def test_no_completed_trial_is_a_clear_user_error(tmp_path: Path) -> None:
    study = study_of(trial(1, 8, state=PRUNED), trial(1, 8, state=FAIL))
    with pytest.raises(NoCompletedTrialError, match=r"no completed trial \(1 fail, 1 pruned\)"):
        write_report(study, tmp_path)
    assert not list(tmp_path.iterdir())
    with pytest.raises(NoCompletedTrialError, match="has no trials yet"):
        write_report(study_of(), tmp_path)


def test_report_for_loads_the_study_and_writes_to_reports_by_default(workdir: Path, no_figures: None) -> None:
    url = f"sqlite:///{workdir / 'studies.db'}"
    stored = optuna.create_study(storage=url, study_name="adding/T=50")
    stored.add_trials(small_study().trials)
    html = report_for(url, "adding/T=50")
    assert html == Path("reports/adding_T_50/report.html") and html.exists()
    assert "unconfirmed (one seed per configuration)" in (html.parent / "summary.md").read_text(encoding="utf-8")


def test_report_for_an_unknown_study_lists_the_studies_there(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'studies.db'}"
    for name in ("beta", "alpha"):
        optuna.create_study(storage=url, study_name=name)
    with pytest.raises(StorageError, match=r"no study 'gamma' in .*studies there: alpha, beta"):
        report_for(url, "gamma")
    assert open_study(url, "alpha").study_name == "alpha"


def test_report_for_a_missing_database_file_does_not_create_it(workdir: Path) -> None:
    with pytest.raises(StackSearchError, match="no database file"):
        report_for(f"sqlite:///{workdir / 'missing.db'}", "any")
    assert not (workdir / "missing.db").exists()


def test_default_out_dir_is_reports_slash_study() -> None:
    assert default_out_dir("adding-t50") == Path("reports/adding-t50")


def test_report_package_imports_neither_keras_nor_mlflow_nor_training_modules() -> None:
    forbidden = (
        "keras",
        "tensorflow",
        "mlflow",
        "stacksearch.objective",
        "stacksearch.model",
        "stacksearch.train",
        "stacksearch.tracking",
    )
    package = Path(ss.__file__).parent / "report"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                assert not name.startswith(forbidden), f"{source.name} imports {name}"
