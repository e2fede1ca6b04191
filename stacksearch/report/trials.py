"""Read a study once into plain records: the only module that looks inside Optuna trials.

Every analysis function accepts either an ``optuna.Study`` or the :class:`StudyData`
that :func:`collect` makes from it, so a report reads 10,000 trials once, not once a table.

Example:
    >>> import optuna
    >>> from optuna.distributions import IntDistribution
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(
    ...     params={"depth": 2, "units": 32}, value=0.5,
    ...     distributions={"depth": IntDistribution(1, 4), "units": IntDistribution(8, 64)}))
    >>> data = collect(study)
    >>> data.trials[0].widths, data.metric, data.direction
    ((32, 32), 'value', 'minimize')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from stacksearch.metrics import better

__all__ = ["TrialRecord", "StudyData", "collect", "as_data", "StudyLike", "PLAIN", "VARIANT_KEYS"]

PLAIN = "plain"
VARIANT_KEYS = ("bidirectional", "residual")


@dataclass(frozen=True)
class TrialRecord:
    """What the report needs from one trial; ``value`` is set only for scored, completed trials.

    ``value`` is the validation score (the first objective of a multi-objective study),
    ``width`` the mean units per layer, ``seconds`` the ``train_seconds`` attribute or,
    without it, the trial's wall-clock duration. ``variant`` names the stack's variant from the
    ``bidirectional`` and ``residual`` user attributes (else parameters): ``"plain"``,
    ``"bidirectional"``, ``"residual"`` or ``"bidirectional+residual"``; ``"plain"`` when absent.
    """

    number: int
    state: TrialState
    depth: int | None
    widths: tuple[float, ...] | None
    n_params: int | None
    value: float | None
    test_value: float | None
    learning_rate: float | None
    seconds: float | None
    epochs_trained: int | None
    reason: str | None
    rejected: bool
    trial: FrozenTrial
    variant: str = PLAIN

    @property
    def width(self) -> float | None:
        """Mean units per layer (the "width" of tables and plots)."""
        return sum(self.widths) / len(self.widths) if self.widths else None

    @property
    def scored(self) -> bool:
        """True for a completed trial with a finite score."""
        return self.value is not None

    @property
    def score(self) -> float:
        """The score of a scored record (see :attr:`scored`): ``value``, known not to be None.

        For records already filtered to scored ones (:attr:`StudyData.scored`,
        :meth:`StudyData.best_of`); raises ``ValueError`` on a record without a score.
        """
        if self.value is None:
            raise ValueError(f"trial {self.number} has no score (state {self.state.name})")
        return self.value


@dataclass(frozen=True)
class StudyData:
    """A study read once: its records plus the metric, direction, baseline and reference.

    ``confirm`` (the confirmation's settings: ``top``, ``seeds``, ``max_seeds``, ``margin``, ``alpha``)
    ``budget`` (planned and spent) and ``limit`` (wall and steady-epoch seconds, :mod:`stacksearch.steady`)
    are the study user attributes of those names, when set.
    """

    study_name: str
    metric: str
    direction: str
    multi_objective: bool
    baseline: float | None
    reference: Mapping[str, Any] | None
    benchmark: str | None
    confirmation: Mapping[str, Any] | None
    trials: tuple[TrialRecord, ...]
    confirm: Mapping[str, Any] | None = None
    budget: Mapping[str, Any] | None = None
    limit: Mapping[str, Any] | None = None

    @property
    def minimize(self) -> bool:
        """True when a lower score is better."""
        return self.direction == "minimize"

    @cached_property
    def scored(self) -> list[TrialRecord]:
        """Completed trials with a finite score, in trial order."""
        return [t for t in self.trials if t.scored]

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b`` (:func:`stacksearch.metrics.better`)."""
        return better(a, b, self.direction)

    def best_of(self, records: list[TrialRecord]) -> TrialRecord | None:
        """The best-scoring record (lowest trial number on ties), or None when none is scored."""
        scored = [r for r in records if r.scored]
        if not scored:
            return None
        sign = 1.0 if self.minimize else -1.0
        return min(scored, key=lambda r: (sign * r.score, r.number))


StudyLike = optuna.Study | StudyData


def as_data(study: StudyLike) -> StudyData:
    """Return ``study`` itself when it is already :class:`StudyData`, else :func:`collect` it."""
    return study if isinstance(study, StudyData) else collect(study)


def collect(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> StudyData:
    """Read every trial of ``study`` into :class:`TrialRecord` objects (one pass).

    Reads only the parameter names and user attributes fixed in DESIGN.md; a study made by
    the user's own Optuna code without stacksearch's study attributes gets the metric name
    ``"value"`` and no baseline. ``trials``, when given, stand for ``study.get_trials()``
    (as :func:`stacksearch.report.fast_load.read_trials` reads them from RDB storage).
    """
    attrs = study.user_attrs
    raw_bench = attrs.get("benchmark")
    bench = raw_bench if isinstance(raw_bench, Mapping) else {"name": raw_bench} if raw_bench else {}
    metric = str(attrs.get("metric") or bench.get("metric") or "value")
    direction = "minimize" if study.directions[0] == StudyDirection.MINIMIZE else "maximize"
    multi = len(study.directions) > 1
    if trials is None:
        trials = study.get_trials(deepcopy=False)
    records = tuple(_record(t, metric, multi) for t in trials)
    baseline = attrs.get("baseline", bench.get("baseline"))
    reference = attrs.get("reference", bench.get("reference"))
    return StudyData(
        study_name=study.study_name,
        metric=metric,
        direction=direction,
        multi_objective=multi,
        baseline=_finite(baseline),
        reference=reference if isinstance(reference, Mapping) else None,
        benchmark=str(bench["name"]) if bench.get("name") else None,
        confirmation=_with_depths(_mapping(attrs.get("confirmation")), records),
        trials=records,
        confirm=_mapping(attrs.get("confirm")),
        budget=_mapping(attrs.get("budget")),
        limit=_mapping(attrs.get("limit")),
    )


def _record(trial: FrozenTrial, metric: str, multi: bool) -> TrialRecord:
    attrs, params = trial.user_attrs, trial.params
    depth = _int(attrs.get("depth", params.get("depth")))
    widths = _widths(attrs, params, depth)
    n_params = _int(attrs.get("n_params"))
    value = None
    if trial.state == TrialState.COMPLETE and trial.values:
        value = _finite(trial.values[0])
        if multi and n_params is None and len(trial.values) > 1:
            n_params = _int(trial.values[1])
    seconds = _finite(attrs.get("train_seconds"))
    if seconds is None and trial.duration is not None:
        seconds = trial.duration.total_seconds()
    epochs = _int(attrs.get("epochs_trained"))
    if epochs is None and trial.intermediate_values:
        epochs = len(trial.intermediate_values)
    reason = attrs.get("reject_reason") or attrs.get("fail_reason")
    return TrialRecord(
        number=trial.number,
        state=trial.state,
        depth=depth,
        widths=widths,
        n_params=n_params,
        value=value,
        test_value=_test_value(attrs, metric),
        learning_rate=_finite(params.get("learning_rate")),
        seconds=seconds,
        epochs_trained=epochs,
        reason=str(reason) if reason else None,
        rejected="reject_reason" in attrs,
        trial=trial,
        variant=_variant(attrs, params),
    )


def _variant(attrs: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    on = [name for name in VARIANT_KEYS if attrs.get(name, params.get(name)) in (True, 1)]
    return "+".join(on) or PLAIN


def _widths(attrs: Mapping[str, Any], params: Mapping[str, Any], depth: int | None) -> tuple[float, ...] | None:
    raw = attrs.get("widths")
    if isinstance(raw, (list, tuple)) and raw and all(_finite(w) is not None for w in raw):
        return tuple(raw)
    if depth is None:
        return None
    if "units" in params:
        return (params["units"],) * depth
    per_layer = [params.get(f"units_{i}") for i in range(depth)]
    if all(w is not None for w in per_layer):
        return tuple(int(w) for w in per_layer if w is not None)
    return None  # iso_params without a widths attribute: the widths depend on the data


def _test_value(attrs: Mapping[str, Any], metric: str) -> float | None:
    if f"test_{metric}" in attrs:
        return _finite(attrs[f"test_{metric}"])
    tests = [k for k in attrs if k.startswith("test_")]
    return _finite(attrs[tests[0]]) if metric == "value" and len(tests) == 1 else None


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _with_depths(confirmation: Mapping[str, Any] | None, records: Sequence[TrialRecord]) -> Mapping[str, Any] | None:
    """``confirmation`` with each result's missing ``depth`` read from its search trial (a depth parameter only)."""
    results = confirmation.get("results") if confirmation else None
    if confirmation is None or not isinstance(results, list):
        return confirmation
    if all(not isinstance(r, Mapping) or r.get("depth") is not None for r in results):
        return confirmation
    depths: dict[Any, int | None] = {r.number: r.depth for r in records}
    filled = [
        {**r, "depth": depths.get(r.get("trial"))} if isinstance(r, Mapping) and r.get("depth") is None else r
        for r in results
    ]
    return {**confirmation, "results": filled}


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    number = _finite(value)
    return int(number) if number is not None else None
