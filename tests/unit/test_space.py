import numpy as np
import optuna
import pytest

from stacksearch import benchmarks
from stacksearch.exceptions import ConfigError, TrialRejected
from stacksearch.space import ArchSpec, SearchSpace, rnn_layer_params, solve_iso_widths


def test_layer_formula_matches_references():
    assert rnn_layer_params("lstm", 2, 32) == 4 * (32 * (2 + 32) + 32)
    assert rnn_layer_params("gru", 2, 32) == 3 * (32 * (2 + 32) + 2 * 32)


def test_shared_mode_samples_one_width_for_all_layers():
    space = SearchSpace(depth=(1, 4), units=(8, 64))
    spec = space.sample(optuna.trial.FixedTrial({"depth": 3, "units": 16, "learning_rate": 1e-3}), 2, 1)
    assert spec.widths == (16, 16, 16) and spec.learning_rate == 1e-3 and spec.cell == "lstm"


def test_per_layer_mode_uses_conditional_names():
    space = SearchSpace(depth=(1, 4), units=(8, 64), width_mode="per_layer")
    params = {"depth": 2, "units_0": 8, "units_1": 40, "learning_rate": 1e-3}
    assert space.sample(optuna.trial.FixedTrial(params), 2, 1).widths == (8, 40)


@pytest.mark.parametrize("mode, names", [("shared", ["units"]), ("per_layer", ["units_0", "units_1", "units_2"])])
def test_units_step_samples_only_the_steps_widths(mode, names):
    space = SearchSpace(depth=(3, 3), units=(8, 64), width_mode=mode, units_step=8)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    widths = set()
    for _ in range(40):
        trial = study.ask()
        widths.update(space.sample(trial, 2, 1).widths)
        assert all(trial.distributions[name].step == 8 for name in names)
        study.tell(trial, 0.0)
    assert widths <= set(range(8, 65, 8)) and len(widths) >= 6


def test_without_units_step_widths_stay_log_uniform():
    trial = optuna.create_study().ask()
    SearchSpace(units=(8, 64)).sample(trial, 2, 1)
    assert trial.distributions["units"].log and trial.distributions["units"].step == 1


def test_optional_dimensions():
    space = SearchSpace(dropout=(0.0, 0.5), batch_size=(32, 64), cell=("lstm", "gru"))
    params = {"depth": 1, "cell": "gru", "units": 8, "learning_rate": 1e-3, "dropout": 0.25, "batch_size": 32}
    spec = space.sample(optuna.trial.FixedTrial(params), 3, 1)
    assert (spec.cell, spec.dropout, spec.batch_size) == ("gru", 0.25, 32)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("target", [5_000, 20_000, 100_000, 1_000_000])
def test_iso_params_lands_within_five_percent(depth, target):
    widths = solve_iso_widths("lstm", depth, target, 3, 2)
    assert len(widths) == depth
    assert abs(ArchSpec(widths).n_params(3, 2) - target) / target <= 0.05


def test_iso_params_rejects_unreachable_budget():
    with pytest.raises(TrialRejected, match="within 5%"):
        solve_iso_widths("lstm", 6, 50, 12, 9)


def test_max_params_rejects_before_building():
    space = SearchSpace(depth=(1, 3), units=(8, 512), max_params=10_000)
    trial = optuna.trial.FixedTrial({"depth": 3, "units": 512, "learning_rate": 1e-3})
    with pytest.raises(TrialRejected, match="exceed max_params=10000"):
        space.sample(trial, 2, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": (0, 2)}, "space.depth: min 0 is below 1"),
        ({"units": (64, 8)}, "space.units: min 64 > max 8"),
        ({"dropout": (0.0, 1.0)}, "space.dropout"),
        ({"cell": ("rnn",)}, "space.cell"),
        ({"width_mode": "deep"}, "space.width_mode"),
        ({"units": (8, 60), "units_step": 8}, r"space.units_step: 8 does not divide the units range \[8, 60\]"),
        ({"units_step": 0}, "space.units_step: 0 must be a positive integer"),
        ({"units_step": True}, "space.units_step: True must be a positive integer"),
        ({"width_mode": "iso_params", "units_step": 8}, "space.units_step: iso_params solves the widths"),
    ],
)
def test_bad_space_is_a_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SearchSpace(**kwargs)


def _random_specs(count: int, seed: int):
    """Specs from every width mode and cell, via the real sampler."""
    rng = np.random.default_rng(seed)
    modes = ["shared", "per_layer", "iso_params"]
    for index in range(count):
        mode = modes[index % 3]
        space = SearchSpace(
            depth=(1, 4), units=(1, 48), width_mode=mode, target_params=(3_000, 40_000), cell=("lstm", "gru")
        )
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=int(rng.integers(1 << 30))))
        trial = study.ask()
        yield space, trial


@pytest.mark.parametrize("task", ["regression", "classification", "sequence_labelling"])
def test_analytic_count_equals_keras_count_on_random_specs(task):
    from stacksearch.model import build_stacked_lstm

    data = {
        "regression": benchmarks.load("adding", length=5, n_train=4, n_val=2, n_test=2),
        "classification": _classification_data(),
        "sequence_labelling": benchmarks.load("copy_memory", delay=2, n_train=4, n_val=2, n_test=2),
    }[task]
    checked = set()
    for space, trial in _random_specs(20, seed=len(task)):
        spec = space.sample(trial, data.n_features, data.n_outputs)
        model = build_stacked_lstm(spec, data, compile=False)
        assert model.count_params() == spec.n_params(data.n_features, data.n_outputs), spec
        checked.add((space.width_mode, spec.cell))
    assert {mode for mode, _ in checked} == {"shared", "per_layer", "iso_params"}


def _classification_data():
    from stacksearch.data import SequenceData

    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5, 3)).astype("float32")
    y = np.arange(12) % 4
    return SequenceData(x[:8], y[:8], x[8:], y[8:], task="classification")


def test_model_returns_sequences_from_every_layer_but_the_last():
    from stacksearch.model import build_stacked_lstm

    data = benchmarks.load("adding", length=5, n_train=4, n_val=2, n_test=2)
    model = build_stacked_lstm(ArchSpec((6, 5, 4)), data)
    recurrent = [layer for layer in model.layers if layer.name.startswith("lstm_")]
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]
    assert all(layer.use_cudnn == "auto" and layer.recurrent_dropout == 0 and not layer.unroll for layer in recurrent)
    labelling = build_stacked_lstm(
        ArchSpec((6, 4)), benchmarks.load("copy_memory", delay=2, n_train=4, n_val=2, n_test=2)
    )
    assert labelling.output_shape == (None, None, 10)


# feasibility on the data's shape: a space where every trial would be rejected is refused up front

SHAPES = [(1, 1), (2, 1), (12, 9), (3, 10)]  # (input features, outputs): regression, adding, vowels, copy memory


def _count(widths, cell, shape):
    return ArchSpec(tuple(widths), cell=cell).n_params(*shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cells", [("lstm",), ("gru",), ("lstm", "gru")])
@pytest.mark.parametrize("mode", ["shared", "per_layer", "iso_params"])
def test_max_params_below_the_smallest_model_is_refused_naming_the_least_that_works(mode, cells, shape):
    from stacksearch.feasible import check_feasible

    space = SearchSpace(
        depth=(2, 3), units=(4, 32), width_mode=mode, target_params=(2_000, 9_000), cell=cells, max_params=10
    )
    with pytest.raises(ConfigError, match=r"^space\.max_params: 10 is below the smallest model") as info:
        check_feasible(space, *shape)
    least = int(str(info.value).split("raise it to at least ")[1].split()[0])
    if mode != "iso_params":
        assert least == min(_count((4, 4), cell, shape) for cell in cells)
    ok = SearchSpace(
        depth=(2, 3), units=(4, 32), width_mode=mode, target_params=(2_000, 9_000), cell=cells, max_params=least
    )
    out = check_feasible(ok, *shape)  # at least one depth passes now; the others are named
    assert len(out) <= 1 and all(reason.endswith(f"over max_params={least}") for reason in out.values())
    if mode != "iso_params":
        assert set(out) == {3}  # depth 3 of the same widths is larger
    with pytest.raises(ConfigError):
        check_feasible(SearchSpace(**{**_kwargs(ok), "max_params": least - 1}), *shape)


def _kwargs(space):
    return {k: getattr(space, k) for k in ("depth", "units", "width_mode", "target_params", "cell", "max_params")}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cells", [("lstm",), ("gru",), ("lstm", "gru")])
def test_iso_targets_no_model_reaches_are_refused_naming_the_least_that_works(cells, shape):
    from stacksearch.feasible import check_feasible

    space = SearchSpace(depth=(1, 4), width_mode="iso_params", target_params=(5, 10), cell=cells)
    with pytest.raises(ConfigError, match=r"^space\.target_params: \[5, 10\] is out of reach") as info:
        check_feasible(space, *shape)
    least = int(str(info.value).split("at least ")[1])
    smallest = min(_count((1,), cell, shape) for cell in cells)  # one layer of one unit
    assert least == min(t for t in range(1, smallest + 1) if abs(smallest - t) <= 0.05 * t)
    assert least == min(t for t in range(5, least + 1) if _any_solves(space, t, shape))
    assert set(check_feasible(SearchSpace(**{**_kwargs(space), "target_params": (5, least)}), *shape)) == {2, 3, 4}


def _any_solves(space, target, shape):
    for depth in range(space.depth[0], space.depth[1] + 1):
        for cell in space.cell:
            try:
                solve_iso_widths(cell, depth, target, *shape)
                return True
            except TrialRejected:
                pass
    return False


@pytest.mark.parametrize("seed", range(6))
def test_the_depths_called_out_are_exactly_those_where_every_trial_is_rejected(seed):
    """Brute force on small spaces: every trial the sampler could propose, at every depth."""
    import itertools

    from stacksearch.feasible import check_feasible

    rng = np.random.default_rng(seed)
    for _ in range(20):  # about a third each: every depth passes, some are out, none passes
        mode = ["shared", "per_layer", "iso_params"][int(rng.integers(3))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        cells = [("lstm",), ("gru",), ("lstm", "gru")][int(rng.integers(3))]
        lo = int(rng.integers(1, 4))
        low_target = int(rng.integers(5, 300))
        space = SearchSpace(
            depth=(1, 4),
            units=(lo, lo + 2),
            width_mode=mode,
            cell=cells,
            target_params=(low_target, low_target + int(rng.integers(0, 60))),
            max_params=int(rng.integers(10, 700)),
        )
        passing = set()
        for depth in range(1, 5):
            for cell in cells:
                if mode == "iso_params":
                    choices = range(space.target_params[0], space.target_params[1] + 1)
                else:
                    choices = itertools.product(range(lo, lo + 3), repeat=1 if mode == "shared" else depth)
                for choice in choices:
                    params = {"depth": depth, "learning_rate": 1e-3, "cell": cell}
                    if mode == "iso_params":
                        params["target_params"] = choice
                    elif mode == "shared":
                        params["units"] = choice[0]
                    else:
                        params.update({f"units_{i}": u for i, u in enumerate(choice)})
                    try:
                        space.sample(optuna.trial.FixedTrial(params), *shape)
                    except TrialRejected:
                        continue
                    passing.add(depth)
                    break
        if not passing:
            with pytest.raises(ConfigError):
                check_feasible(space, *shape)
        else:
            assert set(check_feasible(space, *shape)) == set(range(1, 5)) - passing, (space, shape)


def test_the_library_refuses_a_space_no_trial_can_pass(workdir):
    import stacksearch as ss
    from stacksearch.config import StudyConfig

    data = benchmarks.load("adding", length=5, n_train=4, n_val=2, n_test=2)
    with pytest.raises(ConfigError, match="space.max_params: 10 is below"):
        ss.StackedLSTMObjective(data, SearchSpace(max_params=10))
    config = StudyConfig.model_validate(
        {
            "benchmark": {"name": "adding", "args": {"length": 5, "n_train": 4, "n_val": 2, "n_test": 2}},
            "study": {"name": "x", "storage": "sqlite:///x.db"},
            "tracking": False,
            "space": {"width_mode": "iso_params", "target_params": [5, 10]},
        }
    )
    with pytest.raises(ConfigError, match=r"space.target_params: \[5, 10\] is out of reach"):
        ss.run_study(config)
    assert not (workdir / "x.db").exists()
