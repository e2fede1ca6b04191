"""The run's budget: what the confirmation will cost, and the search's stop that leaves room for it.

A budget (``study.budget`` / ``--budget``: ``20m``, ``1h30m``, ``90s``, ``600 epochs``) covers the
search and the confirmation after it. The confirmation retrains the best trial of each of the
``top`` depths with ``seeds`` seeds, so it costs about ``seeds x sum(seconds per epoch x
epochs trained + overhead)`` over those trials: :func:`estimate` measures it from the study's
own trials (``train_seconds / epochs_trained`` and ``epochs_trained`` of the trials it would
retrain, medians over the finished trials for a depth not yet completed,
:func:`guess_seconds_per_epoch` and the full ``epochs`` before any trial finished).
:class:`BudgetDeadline` is the search's stop: the run's end minus that reserve minus one
typical trial (a trial started before the stop runs to its end), or for an epoch budget the
point where epochs spent + one trial + the reserve would pass the budget.
It has :class:`~stacksearch.search.loop.Deadline`'s interface, reads the study afresh each time
it is asked and travels to worker processes as JSON, so every worker stops at the same moving
point.

Example:
    >>> deadline = BudgetDeadline(end=1000.0, slots=2, seeds=3, epochs=5, guess=1.0)
    >>> deadline.current([]).seconds  # 1.25 x 2 depths x 3 seeds x (5 epochs x 1 s + 1 s overhead)
    45.0
    >>> round(deadline.remaining(now=900.0), 1)  # 1000 - 45 - 900, nothing measured yet
    55.0
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import optuna
from optuna.trial import FrozenTrial, TrialState

from stacksearch.config import StudyConfig
from stacksearch.data import SequenceData
from stacksearch.durations import parse_budget as parse_budget_text
from stacksearch.exceptions import ConfigError
from stacksearch.search.depths import depth_leaders, depth_of
from stacksearch.search.loop import Deadline
from stacksearch.settings import EPOCHS

__all__ = [
    "Budget",
    "Estimate",
    "BudgetDeadline",
    "parse_budget",
    "estimate",
    "guess_seconds_per_epoch",
    "smallest_budget",
    "check_budget",
    "deadline_from_json",
    "hard_end",
    "format_seconds",
    "GUESS_SECONDS_PER_STEP",
    "OVERHEAD_GUESS",
    "TRACE_GUESS",
    "RESERVE_MARGIN",
]

GUESS_SECONDS_PER_STEP = 2e-5  # one epoch, per training sequence x time step x LSTM layer (2 CPU cores, TensorFlow)
OVERHEAD_GUESS = 1.0  # seconds per training outside fit(): build, compile, test score
RESERVE_MARGIN = 1.25  # retrainings ran 1.5x their estimate in the quickstart on a busy machine (load 3)
TRACE_GUESS = 2.0  # seconds per training to trace the model (the first epoch's compilation)


class Budget(NamedTuple):
    """A parsed budget: ``kind`` ``seconds`` or ``epochs``, its ``amount``, and the ``text`` as given."""

    kind: str
    amount: float
    text: str


def parse_budget(value: str | float | None) -> Budget | None:
    """The study's budget, or None (raises :class:`ConfigError` for a bad value).

    Example:
        >>> parse_budget("1h30m"), parse_budget("600 epochs").amount
        (Budget(kind='seconds', amount=5400.0, text='1h30m'), 600.0)
    """
    try:
        parsed = parse_budget_text(value)
    except ValueError as err:
        raise ConfigError(f"study.budget: {err} (got {value!r})") from None
    return None if parsed is None else Budget(parsed[0], parsed[1], str(value))


class Estimate(NamedTuple):
    """What the study's trials say about the rest of the run (:func:`estimate`)."""

    seconds: float  # the confirmation's reserve
    epochs: int  # the confirmation's reserve, in epochs
    trial_seconds: float  # a typical search trial's wall time (0 before any finished)
    trial_epochs: float  # a typical search trial's epochs (the full training before any finished)
    spent_epochs: int  # epochs of the finished trials, plus the full training of each running one
    seconds_per_epoch: float  # the median over finished trials, else the guess
    measured: bool  # from the study's own trials, not the guess


def _wall(trial: FrozenTrial) -> float | None:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return None
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def _per_epoch(trial: FrozenTrial) -> float | None:
    seconds, epochs = trial.user_attrs.get("train_seconds"), trial.user_attrs.get("epochs_trained")
    if not isinstance(seconds, (int, float)) or not isinstance(epochs, int) or epochs < 1:
        return None
    return float(seconds) / epochs


def _epochs_trained(trial: FrozenTrial, epochs: int) -> int | None:
    trained = trial.user_attrs.get("epochs_trained")
    return min(trained, epochs) if isinstance(trained, int) and trained >= 1 else None


def estimate(
    trials: Sequence[FrozenTrial],
    *,
    slots: int,
    seeds: int,
    epochs: int = EPOCHS,
    guess: float = 1.0,
    maximize: bool = False,
) -> Estimate:
    """The confirmation's cost and a typical search trial's, from ``trials`` (the search study's).

    ``slots`` depths are retrained with ``seeds`` seeds each: each of the best depths' best
    trial at its own measured seconds per epoch for the epochs it trained (a retraining stops
    early where its trial did, at most ``epochs``), a depth without a completed trial at the
    median rate for the median epochs of the completed trials (``epochs`` before any),
    ``guess`` seconds per epoch when none has finished. Overhead per training (outside fit:
    build, compile, test score) is the median of wall time minus ``train_seconds``. The sum
    has :data:`RESERVE_MARGIN` to spare.

    Example:
        >>> from optuna.trial import create_trial
        >>> done = [create_trial(value=0.1, params={}, distributions={},
        ...         user_attrs={"depth": d, "train_seconds": 6.0 * d, "epochs_trained": 3}) for d in (1, 2)]
        >>> estimate(done, slots=2, seeds=3, epochs=5).seconds  # 1.25 x 3 seeds x (2 s + 4 s) x 3 epochs trained
        67.5
    """
    finished = [t for t in trials if t.state.is_finished() and _per_epoch(t) is not None]
    rates = [rate for t in finished if (rate := _per_epoch(t)) is not None]
    walls = [w for t in finished if (w := _wall(t)) is not None]
    overheads = [max(0.0, w - float(t.user_attrs["train_seconds"])) for t in finished if (w := _wall(t)) is not None]
    overhead = statistics.median(overheads) if overheads else OVERHEAD_GUESS
    median_rate = statistics.median(rates) if rates else guess
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    lengths = [n for t in complete if (n := _epochs_trained(t, epochs)) is not None]
    typical = statistics.median(lengths) if lengths else epochs
    chosen = [
        (rate, _epochs_trained(t, epochs) or epochs)
        for t in depth_leaders(complete, slots, maximize)
        if (rate := _per_epoch(t)) is not None
    ]
    retrainings = chosen + [(median_rate, typical)] * (slots - len(chosen))
    reserve = RESERVE_MARGIN * seeds * sum(rate * length + overhead for rate, length in retrainings)
    spent = sum(int(t.user_attrs.get("epochs_trained", 0) or 0) for t in trials if t.state.is_finished())
    running = sum(1 for t in trials if t.state == TrialState.RUNNING)
    trained = [int(t.user_attrs["epochs_trained"]) for t in finished]
    return Estimate(
        seconds=round(reserve, 3),
        epochs=min(slots * seeds * epochs, math.ceil(RESERVE_MARGIN * seeds * sum(n for _, n in retrainings))),
        trial_seconds=statistics.median(walls) if walls else 0.0,
        trial_epochs=statistics.median(trained) if trained else float(epochs),
        spent_epochs=spent + running * epochs,
        seconds_per_epoch=median_rate,
        measured=bool(rates),
    )


def guess_seconds_per_epoch(data: SequenceData, depth: tuple[int, int], epochs: int = EPOCHS) -> float:
    """Seconds per epoch before anything is measured: the work of an epoch plus a share of the training's set-up.

    :data:`GUESS_SECONDS_PER_STEP` x training sequences x time steps x layers (the mean depth
    of the space), plus :data:`TRACE_GUESS` (building and tracing the model, the first epoch's
    compilation) spread over ``epochs``. Measured on 2 CPU cores with TensorFlow, load average
    about 3 (adding problem, 1,000 sequences of 15 steps, 5 epochs: 3.5 s for one layer of 16
    cells, 8.1 s for three of 32, tracing included; 1 s more per training outside ``fit``). It
    is the fast end of those, so that the smallest-budget check (:func:`check_budget`) refuses
    only budgets that surely cannot do; a busier machine is slower, and the measured seconds
    replace the guess once a trial has finished.

    Example:
        >>> import numpy as np
        >>> data = SequenceData(np.zeros((2000, 20, 2)), np.zeros(2000), np.zeros((500, 20, 2)), np.zeros(500))
        >>> guess_seconds_per_epoch(data, (1, 3), epochs=8)
        1.85
    """
    cases, steps = data.x_train.shape[0], data.x_train.shape[1]
    return GUESS_SECONDS_PER_STEP * cases * steps * (depth[0] + depth[1]) / 2 + TRACE_GUESS / max(1, epochs)


def _unserved(trials: Sequence[FrozenTrial], depth: tuple[int, int] | None) -> list[int]:
    """Depths of the space with neither a completed nor a running trial."""
    if depth is None:
        return []
    served = {depth_of(t) for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING)}
    return [d for d in range(depth[0], depth[1] + 1) if d not in served]


@dataclass(frozen=True)
class BudgetDeadline(Deadline):
    """The search's stop under a budget: the run's end less the confirmation's reserve, recomputed as trials finish.

    ``at`` is the run's hard end (``study.timeout``), kept as in :class:`Deadline`; ``end`` the
    budget's end (seconds since the epoch) or ``epoch_budget`` its epochs, counted from
    ``epochs_at_start`` (the epochs the study had when this run began: a budget applies from
    the command that gives it). ``slots`` depths x ``seeds`` seeds x ``epochs`` epochs is the
    confirmation; ``guess`` the seconds per epoch before any trial is measured; ``workers``
    how many share the run (for :meth:`trials_left`). ``closed``: the search already ended
    under this budget (a resumed run goes straight to the confirmation).

    ``depth``: the space's depths. While one of them has neither a completed nor a running
    trial, the search goes on to the budget's end itself (the reserve may then run over):
    every compared depth needs a best architecture before the confirmation means anything.
    """

    end: float | None = None
    epoch_budget: int | None = None
    epochs_at_start: int = 0
    epochs: int = EPOCHS
    slots: int = 0
    seeds: int = 0
    workers: int = 1
    guess: float = 1.0
    maximize: bool = False
    closed: bool = False
    depth: tuple[int, int] | None = None
    storage_url: str = field(default="", repr=False, compare=False)
    study_name: str = field(default="", compare=False)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def trials(self) -> list[FrozenTrial]:
        """The search study's trials, read now (none before the study exists)."""
        if not self.storage_url:
            return []
        study = self._memo.get("study")
        if study is None:
            from stacksearch.storage import open_storage

            storage = self._memo.setdefault("storage", open_storage(self.storage_url, heartbeat=False))
            try:
                study = optuna.load_study(study_name=self.study_name, storage=storage)
            except KeyError:  # not created yet: nothing measured
                return []
            self._memo["study"] = study
        return study.get_trials(deepcopy=False)

    def current(self, trials: Sequence[FrozenTrial] | None = None) -> Estimate:
        """:func:`estimate` with this deadline's confirmation and guess, over ``trials`` (default: read now)."""
        return estimate(
            self.trials() if trials is None else trials,
            slots=self.slots,
            seeds=self.seeds,
            epochs=self.epochs,
            guess=self.guess,
            maximize=self.maximize,
        )

    def budget_left(self, *, now: float | None = None, trials: Sequence[FrozenTrial] | None = None) -> float:
        """Seconds the search may still start trials by the budget alone (inf for an epoch budget that has room)."""
        now = time.time() if now is None else now
        if self.closed:
            return 0.0
        trials = self.trials() if trials is None else trials
        found, floor = self.current(trials), bool(_unserved(trials, self.depth))
        reserve, reserve_epochs = (0.0, 0) if floor else (found.seconds + found.trial_seconds, found.epochs)
        left = math.inf
        if self.end is not None:
            left = self.end - reserve - now
        if self.epoch_budget is not None:
            spent = found.spent_epochs - self.epochs_at_start
            if spent + found.trial_epochs + reserve_epochs > self.epoch_budget:
                left = 0.0
        return max(0.0, left)

    def remaining(self, *, now: float | None = None) -> float:
        """Seconds until the search starts no trial: the budget's stop or the hard end, whichever is first."""
        now = time.time() if now is None else now
        return min(super().remaining(now=now), self.budget_left(now=now))

    def hard(self) -> Deadline:
        """The run's hard end alone (``study.timeout``): the confirmation keeps to it, not to the reserve."""
        return Deadline(self.at)

    def trials_left(self, *, now: float | None = None, trials: Sequence[FrozenTrial] | None = None) -> float:
        """About how many search trials still fit before the reserve, all workers together (inf: no measure yet)."""
        now = time.time() if now is None else now
        if self.closed or super().remaining(now=now) == 0.0:
            return 0.0
        found = self.current(trials)
        left = math.inf
        if self.end is not None:
            room = self.end - found.seconds - now
            left = (
                room * self.workers / found.trial_seconds if found.trial_seconds > 0 else (math.inf if room > 0 else 0)
            )
        if self.epoch_budget is not None:
            room = self.epoch_budget - (found.spent_epochs - self.epochs_at_start) - found.epochs
            left = min(left, room / max(found.trial_epochs, 1.0))
        return max(0.0, left)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "budget",
            "at": self.at,
            "end": self.end,
            "epoch_budget": self.epoch_budget,
            "epochs_at_start": self.epochs_at_start,
            "epochs": self.epochs,
            "slots": self.slots,
            "seeds": self.seeds,
            "workers": self.workers,
            "guess": self.guess,
            "maximize": self.maximize,
            "closed": self.closed,
            "depth": None if self.depth is None else list(self.depth),
        }

    @classmethod
    def from_json(cls, value: Any, *, storage_url: str = "", study_name: str = "") -> BudgetDeadline:
        """The deadline :meth:`to_json` wrote (a dict; ``value`` is typed as the base's, which takes a number)."""
        fields = {k: v for k, v in value.items() if k != "kind"}
        fields["depth"] = None if fields.get("depth") is None else tuple(fields["depth"])
        return cls(**fields, storage_url=storage_url, study_name=study_name)


def hard_end(deadline: Deadline) -> Deadline:
    """The run's hard end (``study.timeout``) of ``deadline``: itself, or a budget's :meth:`BudgetDeadline.hard`.

    Example:
        >>> hard_end(BudgetDeadline(at=5.0, closed=True)).expired(now=1.0), hard_end(Deadline(5.0)).at
        (False, 5.0)
    """
    return deadline.hard() if isinstance(deadline, BudgetDeadline) else deadline


def deadline_from_json(value: Any, config: StudyConfig) -> Deadline:
    """The run's deadline as written to a worker file: a plain :class:`Deadline` or a :class:`BudgetDeadline`.

    Example:
        >>> deadline_from_json(12.0, config)  # doctest: +SKIP
        Deadline(at=12.0)
    """
    if isinstance(value, dict) and value.get("kind") == "budget":
        return BudgetDeadline.from_json(value, storage_url=config.storage_url, study_name=config.study_name)
    return Deadline.from_json(value)


def format_seconds(seconds: float) -> str:
    """A duration as the study file writes it: ``45s``, ``2m10s``, ``1h05m``.

    Example:
        >>> format_seconds(45), format_seconds(130), format_seconds(3900)
        ('45s', '2m10s', '1h05m')
    """
    seconds = max(0, int(math.ceil(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


def smallest_budget(
    kind: str, *, depths: int, slots: int, seeds: int, epochs: int, seconds_per_epoch: float, overhead: float = 0.0
) -> float:
    """The smallest budget for one full trial per depth and the confirmation (epochs, or seconds).

    Example:
        >>> smallest_budget("epochs", depths=3, slots=3, seeds=3, epochs=6, seconds_per_epoch=1.0)
        72.0
        >>> smallest_budget("seconds", depths=2, slots=2, seeds=2, epochs=5, seconds_per_epoch=1.0, overhead=2.0)
        42.0
    """
    trainings = depths + slots * seeds
    if kind == "epochs":
        return float(trainings * epochs)
    return trainings * (epochs * seconds_per_epoch + overhead)


def check_budget(
    budget: Budget,
    config: StudyConfig,
    *,
    seconds_per_epoch: float,
    measured: bool,
    elapsed: float = 0.0,
    origin: str = "study.budget",
    trials: Sequence[FrozenTrial] = (),
) -> None:
    """Raise :class:`ConfigError` when ``budget`` cannot hold one trial per depth and the confirmation.

    Epoch budgets are checked exactly (full trainings); time budgets at ``seconds_per_epoch``
    (the study's own median when ``measured``, else :func:`guess_seconds_per_epoch`) with
    :data:`OVERHEAD_GUESS` per training, plus ``elapsed`` (the run's start-up so far). A
    resumed study's ``trials`` spare the depths that already have a completed trial.
    """
    lo, hi = config.space.depth
    done = {depth_of(t) for t in trials if t.state == TrialState.COMPLETE}
    slots = min(config.confirm.top, hi - lo + 1) if config.confirm.enabled else 0
    depths = sum(1 for d in range(lo, hi + 1) if d not in done)
    seeds = config.confirm.seeds if config.confirm.enabled else 0
    epochs = config.training.epochs
    need = smallest_budget(
        budget.kind,
        depths=depths,
        slots=slots,
        seeds=seeds,
        epochs=epochs,
        seconds_per_epoch=seconds_per_epoch,
        overhead=OVERHEAD_GUESS,
    )
    if budget.kind == "seconds":
        need = 10 * math.ceil((need + elapsed) / 10)
    if budget.amount >= need:
        return
    confirmation = f" and the confirmation ({slots} depths x {seeds} seeds x {epochs} epochs)" if slots else ""
    if budget.kind == "epochs":
        least, how = f"{int(need)} epochs", ""
    else:
        source = "measured on this study's trials" if measured else "guessed from the data's size"
        least, how = format_seconds(need), f" (at {seconds_per_epoch:.2g} s per epoch, {source})"
    off = ", or turn the confirmation off (confirm: false)" if slots else ""
    share = "one trial per depth" if not done else "one trial per depth still without a completed one"
    raise ConfigError(
        f"{origin}: {budget.text!r} is too small for {share} ({depths} x {epochs} epochs){confirmation}: "
        f"give at least {least}{how}{off}"
    )
