import io

import optuna
import pytest
from rich.console import Console

from stacksearch import benchmarks, cli
from stacksearch.cli import main

_LOADED: dict[str, object] = {}


@pytest.fixture(autouse=True)
def cached_benchmarks(monkeypatch):
    """Load each benchmark once for the whole module (the listing loads all of them)."""
    load = benchmarks.load

    def cached(name, **kwargs):
        if kwargs:
            return load(name, **kwargs)
        if name not in _LOADED:
            _LOADED[name] = load(name)
        return _LOADED[name]

    monkeypatch.setattr(benchmarks, "load", cached)


@pytest.fixture
def terminal(monkeypatch):
    """Make the CLI print to a terminal of ``width`` columns; returns a function reading what it printed."""

    def use(width: int):
        buffer = io.StringIO()
        monkeypatch.setattr(
            cli, "console", Console(file=buffer, width=width, force_terminal=True, color_system=None, highlight=False)
        )
        return buffer.getvalue

    return use


@pytest.fixture
def captured(monkeypatch):
    """Print as under a pipe or a script: not a terminal, rich's default 80 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(cli, "console", Console(highlight=False))


LONG_NAME = "adding_depth_versus_width_at_matched_parameter_counts_seed_1"
MARKUP_NAME = "[red]mine[/red]"


def _storage_with_studies() -> str:
    storage = "sqlite:///listing.db"
    dist = {"depth": optuna.distributions.IntDistribution(1, 3)}
    for name in ("listed", LONG_NAME, MARKUP_NAME):
        study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
        study.add_trial(
            optuna.trial.create_trial(
                params={"depth": 2},
                distributions=dist,
                value=0.5,
                user_attrs={"depth": 2, "widths": [8, 8], "n_params": 999},
            )
        )
    study.add_trial(
        optuna.trial.create_trial(params={"depth": 1}, distributions=dist, state=optuna.trial.TrialState.PRUNED)
    )
    return storage


def test_studies_lists_counts_and_best_architecture(workdir, captured, capsys):
    storage = _storage_with_studies()
    assert main(["studies", "--storage", storage]) == 0
    lines = capsys.readouterr().out.splitlines()
    (row,) = [line for line in lines if line.startswith(MARKUP_NAME + " ")]
    assert row.split()[1:5] == ["1", "1", "0", "0"] and "0.5" in row and "depth 2 x [8, 8] (999 params)" in row


def test_studies_fold_a_confirmation_study_into_its_search_study_row(workdir, captured, capsys):
    storage = _storage_with_studies()
    confirm = optuna.create_study(storage=storage, study_name="listed.confirm", direction="minimize")
    confirm.set_user_attr("source_study", "listed")
    for value in (0.4, 0.6):
        confirm.add_trial(optuna.trial.create_trial(value=value, user_attrs={"source_trial": 0}))
    orphan = optuna.create_study(storage=storage, study_name="gone.confirm")
    orphan.set_user_attr("source_study", "gone")  # its search study was deleted: still listed, not lost
    assert main(["studies", "--storage", storage]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("listed.confirm") for line in lines)
    (row,) = [line for line in lines if line.startswith("listed ")]
    assert row.split()[1:6] == ["1", "0", "0", "0", "2"]
    (other,) = [line for line in lines if line.startswith(MARKUP_NAME + " ")]
    assert other.split()[5] == "-"
    assert any(line.startswith("gone.confirm ") for line in lines)


def test_studies_on_empty_storage(workdir, capsys):
    assert main(["studies", "--storage", "sqlite:///empty.db"]) == 0
    assert "no studies" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["captured", "80-column terminal"])
def test_studies_never_cut_or_restyle_a_study_name(where, workdir, captured, terminal, capsys):
    read = terminal(80) if where != "captured" else lambda: capsys.readouterr().out
    assert main(["studies", "--storage", _storage_with_studies()]) == 0
    out = read()
    assert "…" not in out
    lines = out.splitlines()
    for name in ("listed", LONG_NAME, MARKUP_NAME):
        assert any(line.split()[:1] == [name] for line in lines), (name, out)
    if where != "captured":
        assert max(len(line.rstrip()) for line in lines) <= 80, out


def test_benchmarks_lists_every_registered_benchmark(captured, capsys):
    assert main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    for name in benchmarks.names():
        assert name in out
    assert "0.1667" in out


def test_benchmarks_captured_give_one_whole_line_per_benchmark(captured, capsys):
    """``stacksearch benchmarks | grep NAME`` finds the benchmark's whole row."""
    assert main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    lines = out.splitlines()
    for name in benchmarks.names():
        data = benchmarks.load(name)
        (row,) = [line for line in lines if line.split()[:1] == [name]]
        assert row.split()[1:3] == [data.task, data.metric], row


@pytest.mark.parametrize("width", [80, 40])
def test_benchmarks_on_a_narrow_terminal_show_every_name_whole(width, terminal):
    read = terminal(width)
    assert main(["benchmarks"]) == 0
    out = read()
    assert "…" not in out
    lines = [line.rstrip() for line in out.splitlines()]
    for name in benchmarks.names():
        assert name in lines, out  # the name alone on its line, whole
        assert benchmarks.load(name).task in out
    table = [line for line in lines if not line.startswith("[")]  # the notes below wrap as the terminal wraps them
    assert max(len(line) for line in table) <= width, out


def test_benchmarks_on_a_wide_terminal_are_a_table(terminal):
    read = terminal(200)
    assert main(["benchmarks"]) == 0
    out = read()
    assert "┃ name" in out and "…" not in out
    for name in benchmarks.names():
        assert f"│ {name} " in out
