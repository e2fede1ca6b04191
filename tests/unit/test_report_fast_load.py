"""The fast trial reader of ``stacksearch report`` yields exactly what Optuna's own path does.

Studies are built on SQLite (always), PostgreSQL (from STACKSEARCH_TEST_DB_URL, e.g.
postgresql+psycopg://root@127.0.0.1:5432/test) and MariaDB/MySQL (STACKSEARCH_TEST_MYSQL_URL);
a server test is skipped with the reason where its variable is unset or the server does not
answer, and each run uses its own study names and deletes them. They hold every trial state,
every width mode's parameters (int, log int, log float, categorical), inf and NaN values,
intermediate values and JSON user attributes; a second study in the same storage checks that
only the study asked for is read.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from stacksearch.exceptions import TrialRejected
from stacksearch.report import analyse, fast_load, open_study, report_for, write_report, writer
from stacksearch.report.trials import collect
from stacksearch.space import SearchSpace
from tests.support.studies import time_zone

optuna.logging.set_verbosity(optuna.logging.WARNING)

MODES = ("shared", "per_layer", "iso_params")
ATTRS = {
    "seed": 0,
    "note": "naïve — ünïcode",
    "nested": {"a": [1, 2.5, None, True], "b": {"c": "d"}},
    "big": 2**60,
    "neg_inf": -math.inf,
    "not_a_number": math.nan,
    "empty": {},
}


# ---------------------------------------------------------------- building the studies


def build_single(url: str, name: str) -> None:
    """Every width mode and every trial state, one objective, stacksearch's study attributes."""
    study = optuna.create_study(
        storage=url, study_name=name, direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    for key, value in {
        "metric": "mse",
        "direction": "minimize",
        "baseline": 0.5,
        "reference": None,
        "benchmark": {"name": "adding", "args": {"length": 8}, "metric": "mse"},
        "confirmation": {"seeds": 2, "results": [{"depth": 1, "widths": [8], "trial": 0, "values": [0.3, math.inf]}]},
    }.items():
        study.set_user_attr(key, value)
    outcomes = ("complete", "complete", "pruned", "fail", "inf", "complete")
    for mode in MODES:
        space = SearchSpace(
            depth=(1, 3),
            units=(4, 64),
            width_mode=mode,
            target_params=(200, 5_000),
            dropout=(0.0, 0.5),
            batch_size=(16, 32, 64),
            cell=("lstm", "gru"),
        )
        for index, outcome in enumerate(outcomes):
            trial = study.ask()
            try:
                spec = space.sample(trial, 2, 1)
            except TrialRejected as err:
                trial.set_user_attr("reject_reason", str(err))
                study.tell(trial, state=TrialState.PRUNED)
                continue
            value = 0.1 + 0.05 * index + 0.01 * spec.depth
            curve = [0.9, 0.6, value] if outcome != "fail" else [0.9, math.nan]
            for step, point in enumerate(curve):
                trial.report(point, step)
            for key, attr in {
                "depth": spec.depth,
                "widths": list(spec.widths),
                "n_params": spec.n_params(2, 1),
                "epochs_trained": len(curve),
                "best_epoch": len(curve) - 1,
                "train_seconds": 1.5 * index,
                "history": {"val_loss": curve},
                **ATTRS,
            }.items():
                trial.set_user_attr(key, attr)
            if outcome in ("complete", "inf"):
                trial.set_user_attr("test_mse", value * 1.1)
                study.tell(trial, math.inf if outcome == "inf" else value)
            elif outcome == "pruned":
                study.tell(trial, state=TrialState.PRUNED)
            else:
                trial.set_user_attr("fail_reason", "non-finite loss at epoch 1")
                study.tell(trial, state=TrialState.FAIL)
    study.ask()  # RUNNING
    study.enqueue_trial({"depth": 2, "units": 16, "learning_rate": 1e-3})  # WAITING, with system attributes
    study.add_trial(
        optuna.trial.create_trial(
            value=0.25,
            params={"depth": 1, "units": 32, "learning_rate": 2e-3},
            distributions={
                "depth": optuna.distributions.IntDistribution(1, 3),
                "units": optuna.distributions.IntDistribution(4, 64, log=True),
                "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
            },
            user_attrs={"depth": 1, "widths": [32]},
            system_attrs={"origin": "added"},
            intermediate_values={0: math.inf, 1: -math.inf, 2: math.nan, 5: 0.25},
        )
    )


def build_multi(url: str, name: str) -> None:
    """Two objectives (score, parameters) with infinite values; per_layer widths; no study attributes."""
    study = optuna.create_study(
        storage=url, study_name=name, directions=["minimize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=1)
    )
    space = SearchSpace(depth=(1, 3), units=(4, 64), width_mode="per_layer")
    for index in range(8):
        trial = study.ask()
        spec = space.sample(trial, 2, 1)
        trial.set_user_attr("depth", spec.depth)
        if index == 5:
            study.tell(trial, state=TrialState.PRUNED)
            continue
        score = -math.inf if index == 3 else math.inf if index == 4 else 0.1 * index
        study.tell(trial, [score, spec.n_params(2, 1)])
    study.add_trial(
        optuna.trial.create_trial(  # Trial.report refuses multi-objective studies
            values=[0.05, 1234], intermediate_values={0: 0.5, 1: 0.05}, user_attrs={"depth": 1, "widths": [8]}
        )
    )


# ---------------------------------------------------------------- comparing


def canon(obj: Any) -> Any:
    """A comparable form: NaN equal to NaN, every number tagged with its type, dict order kept
    (but see :func:`unordered` for a trial's attributes)."""
    if isinstance(obj, float):
        return ("float", "nan" if math.isnan(obj) else obj)
    if isinstance(obj, (bool, int, str, type(None), datetime.datetime, TrialState, optuna.study.StudyDirection)):
        return (type(obj).__name__, obj)
    if isinstance(obj, FrozenTrial):
        return ("FrozenTrial", unordered(obj))
    if isinstance(obj, optuna.distributions.BaseDistribution):
        return (type(obj).__name__, canon(vars(obj)))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__name__, tuple((f.name, canon(getattr(obj, f.name))) for f in dataclasses.fields(obj)))
    if isinstance(obj, dict):
        return ("dict", tuple((canon(k), canon(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(canon(v) for v in obj))
    raise TypeError(f"cannot compare {type(obj).__name__}")


def unordered(trial: FrozenTrial) -> Any:
    """The trial with its attribute and intermediate-value dicts compared as sets (the ORM's
    order there is the database's, unspecified); parameter order must match exactly."""
    fields = dict(vars(trial))
    for name in ("_user_attrs", "_system_attrs", "intermediate_values"):
        fields[name] = sorted(canon(fields[name])[1], key=repr)
    return canon(fields)


# ---------------------------------------------------------------- storages


@pytest.fixture(scope="module", autouse=True)
def local_time_off_utc() -> Iterator[None]:
    """A local time zone off UTC, so that Optuna's UTC-to-local datetime conversion shows."""
    with time_zone("Asia/Kolkata"):
        yield


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def storage_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_url: Callable[[str], str]
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('fast') / 'fast.db'}"
    return server_url(request.param)


@pytest.fixture(scope="module")
def studies(storage_url: str) -> Iterator[tuple[str, str, str]]:
    """(url, single-objective study, multi-objective study), built once a storage, deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    single, multi = f"fast-load-single-{tag}", f"fast-load-multi-{tag}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_single(storage_url, single)
        build_multi(storage_url, multi)
    yield storage_url, single, multi
    for name in (single, multi):
        optuna.delete_study(study_name=name, storage=storage_url)


def _both(url: str, name: str) -> tuple[optuna.Study, list[FrozenTrial], list[FrozenTrial]]:
    """The study, its trials through the fast reader, and through Optuna (a separate study object)."""
    study = open_study(url, name)
    fast = fast_load.read_trials(study)
    assert fast is not None, "the fast reader fell back on a verified schema"
    return study, fast, open_study(url, name).get_trials(deepcopy=False)


# ---------------------------------------------------------------- tests


def test_the_built_studies_hold_what_the_reader_must_handle(studies: tuple[str, str, str]) -> None:
    url, single, multi = studies
    trials = open_study(url, single).get_trials(deepcopy=False)
    assert {t.state for t in trials} == set(TrialState)
    params = {p for t in trials for p in t.params}
    assert {"units", "units_0", "target_params", "cell", "batch_size", "dropout", "learning_rate"} <= params
    assert any(t.values == [math.inf] for t in trials)
    assert any(math.isnan(v) for t in trials for v in t.intermediate_values.values())
    assert any(t.system_attrs for t in trials)
    values = [t.values for t in open_study(url, multi).get_trials(deepcopy=False) if t.values]
    assert [-math.inf, values[3][1]] in values and len(values[0]) == 2


@pytest.mark.parametrize("which", ["single", "multi"])
def test_fast_reader_yields_the_same_trials_as_optuna(studies: tuple[str, str, str], which: str) -> None:
    url, single, multi = studies
    _, fast, slow = _both(url, single if which == "single" else multi)
    assert [t.number for t in fast] == [t.number for t in slow] == sorted(t.number for t in slow)
    for mine, theirs in zip(fast, slow, strict=True):
        assert list(mine.params) == list(theirs.params) and list(mine.distributions) == list(theirs.distributions)
        assert unordered(mine) == unordered(theirs), f"trial {theirs.number} differs"


@pytest.mark.parametrize("which", ["single", "multi"])
def test_fast_reader_yields_the_same_study_data_and_analysis(studies: tuple[str, str, str], which: str) -> None:
    url, single, multi = studies
    study, fast, slow = _both(url, single if which == "single" else multi)
    fast_data, slow_data = collect(study, fast), collect(open_study(url, study.study_name))
    assert canon(fast_data) == canon(slow_data)
    assert canon(collect(study, slow)) == canon(slow_data)
    assert canon(analyse(fast_data)) == canon(analyse(slow_data))


def test_report_for_reads_through_the_fast_reader_and_writes_the_same_report(
    studies: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_figures: None
) -> None:
    url, single, _ = studies
    calls = []

    def spy(study: optuna.Study) -> list[FrozenTrial] | None:
        calls.append(result := fast_load.read_trials(study))
        return result

    monkeypatch.setattr(writer, "read_trials", spy)
    html = report_for(url, single, tmp_path / "fast")
    assert len(calls) == 1 and calls[0] is not None
    slow = write_report(open_study(url, single), tmp_path / "slow")
    for name in ("depth_width.csv", "summary.md"):
        assert (html.parent / name).read_text() == slow[name.split(".")[0].replace("depth_width", "csv")].read_text()


def test_other_storages_and_unverified_schemas_fall_back_to_optuna(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fast_load.read_trials(optuna.create_study()) is None  # in-memory storage
    url = f"sqlite:///{tmp_path / 'fallback.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_multi(url, "fallback")
    study = open_study(url, "fallback")
    assert fast_load.rdb_storage(study) is not None
    monkeypatch.setattr(fast_load, "SCHEMA_REVISION", "v9.9.9.z")
    assert fast_load.read_trials(study) is None
    monkeypatch.undo()
    monkeypatch.setattr(fast_load, "OPTUNA_MAJOR", fast_load.OPTUNA_MAJOR + 1)
    assert fast_load.read_trials(study) is None
    monkeypatch.undo()
    assert fast_load.read_trials(study) is not None


def test_confirm_of_an_absent_study_lists_the_studies_and_writes_no_report(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stacksearch.cli import main

    url = f"sqlite:///{workdir / 'studies.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_multi(url, "present")
    assert main(["confirm", "absent", "--storage", url]) == 2
    printed = capsys.readouterr()
    assert "no study 'absent'" in printed.out + printed.err and "present" in printed.out + printed.err
    assert not (workdir / "reports").exists()
