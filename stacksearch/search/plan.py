"""The budget of a whole run: how much goes to the search and how much is kept for the confirmation.

``study.budget`` / ``--budget`` is a duration (``20m``, ``1h30m``, ``90s``, or a number of seconds)
or a number of epochs (``600 epochs``). A :class:`Plan` splits it: the confirmation retrains the
best architecture of ``top`` depths with ``seeds`` fresh seeds for ``epochs`` epochs each, and its
cost (:func:`confirmation_cost`) is reserved from the start; the search gets the rest. A duration's
reserve needs the measured seconds per epoch (recompute the plan as trials report it) and is
inflated by ``safety`` (default 1.2: the retrained models are the search's best, not its average,
and building and compiling a model costs time no epoch count shows). Epoch budgets count epochs
trained by all workers together; durations are wall-clock time, so ``workers`` retrain in parallel.

Example:
    >>> plan = Plan(parse_budget("20m"), n_depths=4, top=3, seeds=3, epochs=10, seconds_per_epoch=2.0)
    >>> plan.confirmation.runs, plan.confirmation.seconds, round(plan.reserve), round(plan.search)
    (9, 180.0, 216, 984)
    >>> str(plan.minimum)
    '4m56s'
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from numbers import Real
from typing import Any, Literal

from stacksearch.exceptions import ConfigError

__all__ = ["Budget", "parse_budget", "Cost", "confirmation_cost", "Plan", "budget_record", "WHERE"]

WHERE = "study.budget / --budget"
_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"^(?:(?P<h>{_NUMBER})\s*h(?:ours?|rs?)?)?\s*"
    rf"(?:(?P<m>{_NUMBER})\s*m(?:in(?:ute)?s?)?)?\s*"
    rf"(?:(?P<s>{_NUMBER})\s*s(?:ec(?:ond)?s?)?)?$"
)
_EPOCHS = re.compile(rf"^(?P<n>{_NUMBER})\s*epochs?$")
_EXAMPLES = "write e.g. 20m, 1h30m, 90s, 600 (seconds) or 600 epochs"


@dataclass(frozen=True)
class Budget:
    """A run's budget: ``amount`` seconds (``kind="seconds"``) or epochs (``kind="epochs"``).

    Example:
        >>> str(Budget("seconds", 5400)), str(Budget("epochs", 600)), Budget("seconds", 90).seconds
        ('1h30m', '600 epochs', 90.0)
    """

    kind: Literal["seconds", "epochs"]
    amount: float

    @property
    def seconds(self) -> float | None:
        """The duration in seconds, or None for an epoch budget."""
        return float(self.amount) if self.kind == "seconds" else None

    @property
    def epochs(self) -> int | None:
        """The number of epochs, or None for a duration."""
        return int(self.amount) if self.kind == "epochs" else None

    def __str__(self) -> str:
        if self.kind == "epochs":
            return f"{int(self.amount)} epochs"
        total = math.ceil(self.amount)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "")
        return text or "0s"


def parse_budget(value: str | float | Budget, where: str = WHERE) -> Budget:
    """Read a budget: ``"20m"``, ``"1h30m"``, ``"90s"``, ``"600 epochs"`` or a number of seconds.

    Raises :class:`ConfigError` naming ``where`` for an empty, zero, negative or unknown budget.

    Example:
        >>> parse_budget("1h30m"), parse_budget("600 epochs"), parse_budget(90)
        (Budget(kind='seconds', amount=5400.0), Budget(kind='epochs', amount=600), Budget(kind='seconds', amount=90.0))
        >>> parse_budget("20 minutes").amount, parse_budget("1.5h").amount
        (1200.0, 5400.0)
    """
    if isinstance(value, Budget):
        return value
    if isinstance(value, bool) or value is None:
        raise ConfigError(f"{where}: {value!r} is not a budget; {_EXAMPLES}")
    if isinstance(value, Real):
        return _positive(Budget("seconds", float(value)), value, where)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {value!r} is not a budget; {_EXAMPLES}")
    text = value.strip().lower()
    if not text:
        raise ConfigError(f"{where}: the budget is empty; {_EXAMPLES}")
    if text.startswith("-"):
        raise ConfigError(f"{where}: {value!r} is negative; a budget must be more than zero ({_EXAMPLES})")
    if re.fullmatch(_NUMBER, text):
        return _positive(Budget("seconds", float(text)), value, where)
    if match := _EPOCHS.match(text):
        number = float(match["n"])
        if number != int(number):
            raise ConfigError(f"{where}: {value!r}: epochs must be a whole number (e.g. 600 epochs)")
        return _positive(Budget("epochs", int(number)), value, where)
    match = _DURATION.match(text)
    if match is None or not any(match.groupdict().values()):
        raise ConfigError(f"{where}: {value!r} is not a duration or an epoch count; {_EXAMPLES}")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0}
    seconds = sum(float(match[unit]) * factor for unit, factor in scale.items() if match[unit])
    return _positive(Budget("seconds", seconds), value, where)


def _positive(budget: Budget, value: Any, where: str) -> Budget:
    if not math.isfinite(budget.amount):
        raise ConfigError(f"{where}: {value!r} is not a finite budget; {_EXAMPLES}")
    if budget.amount <= 0:
        raise ConfigError(
            f"{where}: {value!r} is {'negative' if budget.amount < 0 else 'zero'}; a budget must be more than zero"
        )
    return budget


@dataclass(frozen=True)
class Cost:
    """What a set of retrainings costs: ``runs`` models, ``epochs`` in all, and wall-clock ``seconds``
    with the given workers (None without a seconds-per-epoch estimate).

    Example:
        >>> Cost(runs=9, epochs=90, seconds=None).epochs
        90
    """

    runs: int
    epochs: int
    seconds: float | None


def confirmation_cost(
    top: int, seeds: int, epochs: int, seconds_per_epoch: float | Sequence[float] | None = None, *, workers: int = 1
) -> Cost:
    """The confirmation's cost: ``top`` depths x ``seeds`` seeds x ``epochs`` epochs.

    ``seconds_per_epoch`` is one estimate, or one per depth (the measured speed of each architecture
    that will be retrained); the wall-clock time packs the runs onto ``workers`` (longest first).

    Example:
        >>> confirmation_cost(3, 3, 10, 2.0)
        Cost(runs=9, epochs=90, seconds=180.0)
        >>> confirmation_cost(2, 2, 10, [1.0, 3.0], workers=2).seconds  # two 30 s runs, two 10 s runs
        40.0
    """
    top, seeds, epochs = (
        _count(n, name) for n, name in ((top, "confirm.top"), (seeds, "confirm.seeds"), (epochs, "epochs"))
    )
    workers = max(1, _count(workers, "workers"))
    if seconds_per_epoch is None:
        return Cost(top * seeds, top * seeds * epochs, None)
    if isinstance(seconds_per_epoch, Sequence):
        speeds = [float(s) for s in seconds_per_epoch]
    else:
        speeds = [float(seconds_per_epoch)] * top
    if len(speeds) != top:
        raise ValueError(f"{len(speeds)} seconds-per-epoch estimates for {top} depths")
    runs = sorted((speed * epochs for speed in speeds for _ in range(seeds)), reverse=True)
    return Cost(top * seeds, top * seeds * epochs, _makespan(runs, workers))


def _makespan(durations: Sequence[float], workers: int) -> float:
    loads = [0.0] * workers
    for duration in durations:
        heapq.heappush(loads, heapq.heappop(loads) + duration)
    return max(loads) if durations else 0.0


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name}: {value!r} must be a whole number >= 0")
    return value


@dataclass(frozen=True)
class Plan:
    """The split of ``budget`` between the search and the confirmation (see the module docstring).

    ``n_depths``: depths in the space; ``top`` depths x ``seeds`` seeds are confirmed (``top=0`` or
    ``seeds=0``: no confirmation); ``epochs`` per trial and per retraining; ``seconds_per_epoch``:
    measured so far (one value, or one per confirmed depth, else averaged; None before any trial).

    Example:
        >>> Plan(parse_budget("600 epochs"), n_depths=4, epochs=10).describe()
        'search for about 510 epochs, then confirm 3 depths x 3 seeds (90 epochs)'
    """

    budget: Budget
    n_depths: int
    top: int = 3
    seeds: int = 3
    epochs: int = 10
    seconds_per_epoch: float | tuple[float, ...] | None = None
    workers: int = 1
    safety: float = 1.2

    def __post_init__(self) -> None:
        _count(self.n_depths, "space.depth (depths)")
        if self.n_depths < 1:
            raise ConfigError("space.depth: the space holds no depth")
        if not (isinstance(self.safety, Real) and self.safety >= 1):
            raise ValueError(f"safety {self.safety!r} must be a number >= 1")

    @property
    def confirm_depths(self) -> int:
        """Depths the confirmation retrains: ``top``, or fewer when the space has fewer."""
        return min(self.top, self.n_depths) if self.seeds else 0

    @property
    def confirmation(self) -> Cost:
        """The confirmation's estimated :class:`Cost` (without the safety factor)."""
        speed = self.seconds_per_epoch
        if isinstance(speed, tuple) and len(speed) != self.confirm_depths:
            speed = sum(speed) / len(speed) if speed else None
        return confirmation_cost(self.confirm_depths, self.seeds, self.epochs, speed, workers=self.workers)

    @property
    def reserve(self) -> float | None:
        """Budget kept for the confirmation, in the budget's unit (seconds include ``safety``); None
        for a duration before seconds per epoch are known."""
        cost = self.confirmation
        if self.budget.kind == "epochs":
            return float(cost.epochs)
        return None if cost.seconds is None else cost.seconds * self.safety

    @property
    def search(self) -> float | None:
        """Budget left to the search, in the budget's unit (None while the reserve is unknown)."""
        reserve = self.reserve
        return None if reserve is None else self.budget.amount - reserve

    def search_left(self, spent: float) -> float | None:
        """Search budget still left after ``spent`` (seconds or epochs); <= 0 means stop searching.

        Example:
            >>> Plan(parse_budget("600 epochs"), n_depths=4, epochs=10).search_left(500)
            10.0
        """
        search = self.search
        return None if search is None else search - spent

    @property
    def minimum(self) -> Budget | None:
        """The smallest budget allowing one trial per depth plus the confirmation (None for a duration
        before seconds per epoch are known)."""
        one_each_epochs = self.n_depths * self.epochs
        if self.budget.kind == "epochs":
            return Budget("epochs", one_each_epochs + self.confirmation.epochs)
        speed, reserve = self._mean_speed(), self.reserve
        if speed is None or reserve is None:
            return None
        one_each = math.ceil(self.n_depths / self.workers) * self.epochs * speed
        return Budget("seconds", float(math.ceil(one_each + reserve)))

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the smallest budget that would do when this one is too small.

        Example:
            >>> Plan(parse_budget("50 epochs"), n_depths=4, epochs=10).check()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stacksearch.exceptions.ConfigError: study.budget / --budget: 50 epochs is too small ... 130 epochs
        """
        minimum = self.minimum
        if minimum is None or self.budget.amount >= minimum.amount:
            return
        confirm = (
            f" and the confirmation ({self.confirm_depths} depths x {self.seeds} seeds x {self.epochs} epochs)"
            if self.confirm_depths
            else ""
        )
        speed = f" at about {self._mean_speed():.3g} s per epoch" if self.budget.kind == "seconds" else ""
        raise ConfigError(
            f"{WHERE}: {self.budget} is too small for one trial per depth ({self.n_depths} depths x {self.epochs} "
            f"epochs){confirm}{speed}: give at least {minimum}"
        )

    def describe(self, start: datetime | None = None) -> str:
        """The plan in words, for the start of a run ("search until about 14:05, then confirm ...").

        Example:
            >>> plan = Plan(parse_budget("20m"), n_depths=4, seconds_per_epoch=2.0)
            >>> plan.describe(datetime(2026, 1, 1, 13, 45))
            'search until about 14:01, then confirm 3 depths x 3 seeds (about 3m36s)'
        """
        if not self.confirm_depths:
            return f"search for the whole budget ({self.budget}); no confirmation"
        confirm = f"confirm {self.confirm_depths} depths x {self.seeds} seeds"
        search, reserve = self.search, self.reserve
        if self.budget.kind == "epochs":
            return f"search for about {max(0, int(search or 0))} epochs, then {confirm} ({int(reserve or 0)} epochs)"
        if search is None or reserve is None:
            return (
                f"search, then {confirm} (the time kept for it is set once the first trials measure seconds per epoch)"
            )
        kept = f"about {Budget('seconds', reserve)}"
        if start is None:
            return f"search for about {Budget('seconds', max(search, 1.0))}, then {confirm} ({kept})"
        until = start + timedelta(seconds=max(search, 0.0))
        return f"search until about {until:%H:%M}, then {confirm} ({kept})"

    def _mean_speed(self) -> float | None:
        speed = self.seconds_per_epoch
        if isinstance(speed, tuple):
            return sum(speed) / len(speed) if speed else None
        return None if speed is None else float(speed)


def budget_record(plan: Plan, spent_seconds: float, spent_epochs: int) -> dict[str, Any]:
    """The ``budget`` field of ``verdict.json``: what was planned and what was spent.

    Example:
        >>> record = budget_record(Plan(parse_budget("600 epochs"), n_depths=4, epochs=10), 412.0, 583)
        >>> record["planned"]["search"], record["planned"]["confirmation"], record["spent"]
        (510.0, 90.0, {'seconds': 412.0, 'epochs': 583})
    """
    return {
        "planned": {
            "budget": str(plan.budget),
            "kind": plan.budget.kind,
            "amount": plan.budget.amount,
            "search": plan.search,
            "confirmation": plan.reserve,
            "confirm": {"depths": plan.confirm_depths, "seeds": plan.seeds, "epochs": plan.epochs},
        },
        "spent": {"seconds": float(spent_seconds), "epochs": int(spent_epochs)},
    }
