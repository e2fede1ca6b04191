import optuna

from stacksearch.cli import main
from tests.support.studies import write_study

STUDY = """
study: {name: conf, n_trials: 3, seed: 3, pruner: none, sampler: grid}
benchmark: {name: adding, args: {length: 6, n_train: 96, n_val: 32, n_test: 32}}
space: {depth: [1, 2], units: [4, 4], learning_rate: [0.01, 0.01]}
training: {epochs: 1, batch_size: 32}
tracking: false
report: false
confirm: false  # the run's own confirmation is off: this is `stacksearch confirm`
"""


def test_confirm_retrains_each_depth_with_seeds_and_reports_it(workdir, capsys):
    assert main(["run", str(write_study(workdir / "conf.yaml", STUDY))]) == 0
    assert main(["confirm", "conf", "--top", "2", "--seeds", "2"]) == 0
    study = optuna.load_study(study_name="conf", storage="sqlite:///stacksearch.db")
    confirmation = study.user_attrs["confirmation"]
    assert confirmation["seeds"] == 2
    assert sorted(r["depth"] for r in confirmation["results"]) == [1, 2]
    assert all(len(r["values"]) == 2 for r in confirmation["results"])
    html = (workdir / "reports" / "conf" / "report.html").read_text()
    assert "onfirm" in html and "2-seed" in html or "2 seeds" in html


def test_confirm_unknown_study_lists_the_studies(workdir, capsys):
    optuna.create_study(study_name="conf", storage="sqlite:///stacksearch.db")
    assert main(["confirm", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "conf" in err
