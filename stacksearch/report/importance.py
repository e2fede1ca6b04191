"""Importance of depth versus width versus learning rate: PED-ANOVA, with fANOVA as a cross-check.

Width comes in three shapes (``units``, ``units_0..units_{d-1}``, ``target_params``), so
the evaluators do not run on the study's own parameters: each scored trial is copied into an
in-memory study with the derived parameters ``depth``, ``width`` (mean units per layer, log
scale) and ``learning_rate``, the stack variant's ``bidirectional`` and ``residual`` (categorical,
from each trial's user attributes, where they vary), plus the other parameters every trial shares
with one distribution (``dropout``, ``batch_size``, ``cell``, ``target_params``). The copy's value is
the score, negated when higher is better, so both evaluators rank "reaching a good score"
(in a multi-objective study: the first objective, not the Pareto front).

In ``iso_params`` mode width is a function of depth and ``target_params``; their
importances share credit and should be read together.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> for i in range(20):
    ...     study.add_trial(optuna.trial.create_trial(
    ...         params={"depth": 1 + i % 2, "units": 8 + i}, value=float(i % 2),
    ...         distributions={"depth": IntDistribution(1, 2), "units": IntDistribution(8, 64)}))
    >>> result = param_importances(study)
    >>> max(result.ped_anova, key=result.ped_anova.get)
    'depth'
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator, get_param_importances
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from stacksearch.report.trials import VARIANT_KEYS, StudyLike, TrialRecord, as_data

__all__ = ["Importances", "param_importances", "MAX_FANOVA_TRIALS"]

MAX_FANOVA_TRIALS = 1000
_WIDTH_PARAM = re.compile(r"units(_\d+)?$")
_OWN = {"depth", "learning_rate", *VARIANT_KEYS}
_SAME_VALUE = "every scored trial has the same value"


@dataclass(frozen=True)
class Importances:
    """Normalised importances (summing to 1) by each evaluator, most important first.

    ``fanova`` is None when it could not run (``notes`` says why); ``fanova_trials`` is the
    size of the random subsample fANOVA saw. ``dropped`` names parameters left out because
    they did not vary.
    """

    ped_anova: dict[str, float]
    fanova: dict[str, float] | None
    n_trials: int
    fanova_trials: int
    dropped: tuple[str, ...]
    notes: tuple[str, ...]


def param_importances(study: StudyLike, *, max_fanova_trials: int = MAX_FANOVA_TRIALS, seed: int = 0) -> Importances:
    """Importances of the derived parameters by PED-ANOVA and by fANOVA (see the module doc).

    fANOVA (32 trees of depth 6) sees at most ``max_fanova_trials`` trials drawn at random
    with ``seed``; it needs scikit-learn and is skipped, with a note, without it.
    """
    data = as_data(study)
    records = [r for r in data.scored if r.depth is not None and r.widths]
    if len(records) < 2:
        return Importances(
            {},
            None,
            len(records),
            0,
            (),
            ("Importances not computed: fewer than two scored trials with a known depth and width.",),
        )
    distributions, dropped = _distributions(records)
    if not distributions:
        return Importances({}, None, len(records), 0, dropped, ("Importances not computed: no parameter varied.",))
    if len({r.value for r in records}) < 2:
        return Importances({}, None, len(records), 0, dropped, (f"Importances not computed: {_SAME_VALUE}.",))
    sign = 1.0 if data.minimize else -1.0
    trials = [_derived(r, distributions, sign) for r in records]
    for number, trial in enumerate(trials):  # distinct numbers: evaluators tell trials apart by them
        trial.number, trial._trial_id = number, number
    ped = _evaluate(trials, PedAnovaImportanceEvaluator())
    sample = random.Random(seed).sample(trials, max_fanova_trials) if len(trials) > max_fanova_trials else trials
    notes = []
    try:
        fanova: dict[str, float] | None = _evaluate(
            sample, FanovaImportanceEvaluator(n_trees=32, max_depth=6, seed=seed)
        )
    except ImportError:
        fanova = None
        notes.append("fANOVA cross-check skipped: it needs scikit-learn (pip install scikit-learn).")
    except RuntimeError as error:  # a subsample whose scores are all the same: no variance for fANOVA's trees
        if "zero total variance" not in str(error):
            raise
        fanova = None
        notes.append(f"fANOVA cross-check skipped: in its subsample {_SAME_VALUE}.")
    if fanova is not None and len(sample) < len(trials):
        notes.append(f"fANOVA ran on a random subsample of {len(sample)} of {len(trials)} scored trials.")
    return Importances(ped, fanova, len(trials), len(sample) if fanova is not None else 0, dropped, tuple(notes))


def _distributions(records: list[TrialRecord]) -> tuple[dict[str, BaseDistribution], tuple[str, ...]]:
    derived: dict[str, BaseDistribution] = {}
    dropped = []
    columns: dict[str, list[float]] = {
        "depth": [r.depth for r in records if r.depth is not None],
        "width": [r.width for r in records if r.width is not None],
        "learning_rate": [r.learning_rate for r in records if r.learning_rate is not None],
    }
    for name, values in columns.items():
        if len(values) < len(records):
            continue
        low, high = min(values), max(values)
        if low == high:
            dropped.append(name)
        elif name == "depth":
            derived[name] = IntDistribution(int(low), int(high))
        else:
            derived[name] = FloatDistribution(low, high, log=low > 0)
    for name in VARIANT_KEYS:
        if len({_has(r, name) for r in records}) > 1:
            derived[name] = CategoricalDistribution((False, True))
        elif any(name in r.trial.params for r in records):
            dropped.append(name)
    for name, dist in _shared_extras(records).items():
        if dist.single() or len({r.trial.params[name] for r in records}) < 2:
            dropped.append(name)
        else:
            derived[name] = dist
    return derived, tuple(dropped)


def _has(record: TrialRecord, key: str) -> bool:
    """Whether the record's variant has ``key`` (``bidirectional`` or ``residual``)."""
    return key in record.variant.split("+")


def _shared_extras(records: list[TrialRecord]) -> dict[str, BaseDistribution]:
    first = records[0].trial.distributions if records else {}
    return {
        name: dist
        for name, dist in first.items()
        if name not in _OWN
        and not _WIDTH_PARAM.match(name)
        and all(r.trial.distributions.get(name) == dist for r in records)
    }


def _derived(record: TrialRecord, distributions: dict[str, BaseDistribution], sign: float) -> FrozenTrial:
    own: dict[str, Any] = {"depth": record.depth, "width": record.width, "learning_rate": record.learning_rate}
    own.update({key: _has(record, key) for key in VARIANT_KEYS})
    params = {name: own[name] if name in own else record.trial.params[name] for name in distributions}
    return optuna.trial.create_trial(params=params, distributions=distributions, value=sign * record.score)


class _ScoredTrials:
    """The part of ``optuna.Study`` the importance evaluators read, over a list of trials.

    Copying thousands of trials into a scratch in-memory study validates each one again
    (about 0.3 ms a trial, 3 s on a 10,000-trial report); the evaluators only need the
    complete trials, numbered, and the direction.
    """

    directions = (StudyDirection.MINIMIZE,)
    direction = StudyDirection.MINIMIZE

    def __init__(self, trials: list[FrozenTrial]) -> None:
        self._trials = trials

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        return [t for t in self._trials if states is None or t.state in states]

    def _is_multi_objective(self) -> bool:
        return False


def _evaluate(trials: list[FrozenTrial], evaluator: optuna.importance.BaseImportanceEvaluator) -> dict[str, float]:
    with _quiet():
        study = cast(optuna.Study, _ScoredTrials(trials))  # the part of a Study the evaluators read (see the class)
        result = get_param_importances(study, evaluator=evaluator)
    return {name: float(value) for name, value in result.items()}


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence Optuna's log line for the scratch study and its small-sample warnings."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)
