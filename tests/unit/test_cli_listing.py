import optuna
import pytest
from rich.console import Console

from stacksearch import cli
from stacksearch.cli import main


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wrap at 80 columns without a terminal; read them at a width where they do not."""
    monkeypatch.setattr(cli, "console", Console(width=250, highlight=False))


def test_studies_lists_counts_and_best_architecture(workdir, capsys):
    storage = "sqlite:///listing.db"
    study = optuna.create_study(storage=storage, study_name="listed", direction="minimize")
    dist = {"depth": optuna.distributions.IntDistribution(1, 3)}
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
    assert main(["studies", "--storage", storage]) == 0
    out = capsys.readouterr().out
    assert "listed" in out and "0.5" in out and "[8, 8]" in out


def test_studies_on_empty_storage(workdir, capsys):
    assert main(["studies", "--storage", "sqlite:///empty.db"]) == 0
    assert "no studies" in capsys.readouterr().out


def test_benchmarks_lists_every_registered_benchmark(capsys):
    from stacksearch import benchmarks

    assert main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    for name in benchmarks.names():
        assert name in out
    assert "0.1667" in out
