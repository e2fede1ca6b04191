"""Bad input: exit code 2, one line naming the culprit, and no study created in storage."""

from pathlib import Path

import numpy as np
import pytest

from stacksearch.cli import main
from tests.support.studies import TINY_STUDY, write_study

GOOD = TINY_STUDY.format(name="bad", n_trials=1)


def _npz(folder: Path, **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.normal(size=(20, 5, 2)),
        "y_train": rng.normal(size=20),
        "x_val": rng.normal(size=(8, 5, 2)),
        "y_val": rng.normal(size=8),
    }
    arrays.update(overrides)
    path = folder / "data.npz"
    np.savez(path, **arrays)
    return path


def _data_study(folder: Path, npz: Path, task: str = "regression") -> str:
    return (
        f"study: {{name: bad, n_trials: 1}}\ndata: {{path: {npz.name}, task: {task}}}\n"
        "training: {epochs: 1}\ntracking: false\nreport: false\n"
    )


CASES = {
    "malformed_yaml": lambda d: "study: {name: [oops\n",
    "unknown_key": lambda d: GOOD.replace("space: {", "space: {dept: [1, 2], "),
    "depth_below_one": lambda d: GOOD.replace("depth: [1, 2]", "depth: [0, 2]"),
    "depth_min_over_max": lambda d: GOOD.replace("depth: [1, 2]", "depth: [3, 2]"),
    "non_numeric_units": lambda d: GOOD.replace("units: [4, 12]", "units: [4, many]"),
    "missing_data_file": lambda d: _data_study(d, d / "nowhere.npz"),
    "unknown_benchmark": lambda d: GOOD.replace("name: adding", "name: adder"),
    "unsupported_storage": lambda d: GOOD.replace("seed: 1}", "seed: 1, storage: 'redis://localhost'}"),
    "bad_budget": lambda d: GOOD.replace("seed: 1}", "seed: 1, budget: soon}"),
    "budget_too_small": lambda d: GOOD.replace("seed: 1}", "seed: 1, budget: 10 epochs}").replace(
        "confirm: false", "confirm: {top: 3, seeds: 3}"
    ),
    "bad_confirm": lambda d: GOOD.replace("confirm: false", "confirm: {seeds: 1}"),
    "nan_in_data": lambda d: _data_study(d, _npz(d, x_val=np.full((8, 5, 2), np.nan))),
    "two_dimensional_x": lambda d: _data_study(d, _npz(d, x_train=np.zeros((20, 5)))),
    "mismatched_lengths": lambda d: _data_study(d, _npz(d, y_train=np.zeros(19))),
    "iso_params_unreachable": lambda d: GOOD.replace(
        "units: [4, 12]", "units: [4, 12], width_mode: iso_params, target_params: [5, 10]"
    ),
    "max_params_below_smallest": lambda d: GOOD.replace("units: [4, 12]", "units: [4, 12], max_params: 50"),
    "labels_out_of_range": lambda d: _data_study(
        d, _npz(d, y_train=np.arange(20) % 3, y_val=np.array([0, 1, 2, -1, 0, 1, 2, 0])), task="classification"
    ),
    "bad_bidirectional": lambda d: GOOD.replace("space: {", "space: {bidirectional: sometimes, "),
    "bad_residual": lambda d: GOOD.replace("space: {", "space: {residual: [true, true], "),
    "grid_over_variants": lambda d: GOOD.replace("seed: 1}", "seed: 1, sampler: grid}").replace(
        "space: {", "space: {residual: [false, true], "
    ),
}
CULPRITS = {
    "malformed_yaml": "malformed YAML",
    "unknown_key": "space.dept: unknown key, did you mean 'depth'?",
    "depth_below_one": "space.depth: min 0",
    "depth_min_over_max": "space.depth: min 3 > max 2",
    "non_numeric_units": "space.units.1",
    "missing_data_file": "nowhere.npz",
    "unknown_benchmark": "unknown benchmark 'adder'",
    "unsupported_storage": "unsupported storage URL",
    "bad_budget": "study.budget: give a duration (20m, 1h30m, 90s), a number of seconds, or epochs",
    "budget_too_small": "study.budget: '10 epochs' is too small for one trial per depth (2 x 2 epochs) and the "
    "confirmation (2 depths x 3 seeds x 2 epochs): give at least 16 epochs",
    "bad_confirm": "confirm.seeds: Input should be greater than or equal to 2",
    "nan_in_data": "x_val contains NaN",
    "two_dimensional_x": "x_train has shape (20, 5)",
    "mismatched_lengths": "y_train has 19",
    "labels_out_of_range": "negative class labels",
    "iso_params_unreachable": "space.target_params: [5, 10] is out of reach on this data (2 input features, 1 output)",
    "max_params_below_smallest": "space.max_params: 50 is below the smallest model this space builds on this data "
    "(117 parameters: depth 1, widths [4], lstm; 2 input features, 1 output): "
    "raise it to at least 117",
    "bad_bidirectional": "space.bidirectional: give true, false, or [false, true] to search both (got 'sometimes')",
    "bad_residual": "space.residual: give true, false, or [false, true] to search both (got [True, True])",
    "grid_over_variants": "study.sampler: grid search does not cover space.residual",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_creates_nothing(case, workdir, capsys):
    study = write_study(workdir / "study.yaml", CASES[case](workdir))
    code = main(["run", str(study)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("stacksearch: error: ")
    assert CULPRITS[case] in err
    assert "Traceback" not in err
    assert not (workdir / "stacksearch.db").exists()
    assert not (workdir / "mlflow.db").exists()


def test_space_no_trial_can_pass_is_refused_before_any_worker_starts(workdir, capsys, monkeypatch):
    import subprocess

    from stacksearch.config import load_config
    from stacksearch.exceptions import ConfigError
    from stacksearch.search.pool import run_workers

    def no_worker(*args, **kwargs):
        raise AssertionError("a worker started")

    monkeypatch.setattr(subprocess, "Popen", no_worker)
    study = write_study(workdir / "study.yaml", CASES["max_params_below_smallest"](workdir))
    assert main(["run", str(study), "--workers", "2"]) == 2
    assert "space.max_params: 50" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="space.max_params: 50"):
        run_workers(load_config(study), 2)  # the library path refuses it too
    assert not (workdir / "stacksearch.db").exists()


def test_depths_no_trial_can_pass_are_named_before_the_run(workdir, capsys, monkeypatch):
    import stacksearch.search.phases

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # stands in for the run: only what is printed before it matters

    monkeypatch.setattr(stacksearch.search.phases, "run_phases", interrupted)
    study = write_study(workdir / "study.yaml", GOOD.replace("units: [4, 12]", "units: [4, 12], max_params: 200"))
    assert main(["run", str(study)]) == 130
    out = capsys.readouterr().out
    assert "depth 2 is out: its smallest model has 261 parameters, over max_params=200" in out
    assert "depth 1 is out" not in out


def test_a_budget_flag_too_small_is_named_and_creates_nothing(workdir, capsys):
    study = write_study(workdir / "study.yaml", GOOD)
    assert main(["run", str(study), "--budget", "1s"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("stacksearch: error: --budget: '1s' is too small for one trial per depth")
        and "give at least" in err
    )
    assert main(["run", str(study), "--budget", "3 days"]) == 2
    assert "--budget='3 days': give a duration" in capsys.readouterr().err
    assert not (workdir / "stacksearch.db").exists()


def test_debug_flag_shows_the_traceback(workdir):
    study = write_study(workdir / "study.yaml", CASES["unknown_key"](workdir))
    from stacksearch.exceptions import ConfigError

    with pytest.raises(ConfigError):
        main(["--debug", "run", str(study)])


def test_missing_study_file(workdir, capsys):
    assert main(["run", "nope.yaml"]) == 2
    assert "nope.yaml: study file not found" in capsys.readouterr().err


def test_study_file_that_is_a_folder_says_so(workdir, capsys):
    (workdir / "studies").mkdir()
    write_study(workdir / "studies" / "tiny.yaml", GOOD)
    assert main(["run", "studies"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "stacksearch: error: studies: is a folder, not a study file; "
        "give the path of a study YAML file (it holds tiny.yaml)"
    )
    assert main(["run", str(workdir)]) == 2  # no YAML file directly in it: nothing listed
    assert capsys.readouterr().err.strip().endswith("is a folder, not a study file; give the path of a study YAML file")


def test_unreachable_database_is_a_user_error(workdir, capsys):
    study = write_study(workdir / "study.yaml", GOOD)
    code = main(["run", str(study), "--storage", "postgresql+psycopg://u:secret@127.0.0.1:9/x"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot open storage" in err and "secret" not in err and "u:***@" in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and "stacksearch 0." in capsys.readouterr().out
    for sub in ("run", "studies", "benchmarks"):
        with pytest.raises(SystemExit):
            main([sub, "--help"])
        assert "usage: stacksearch" in capsys.readouterr().out
