"""The search space: what an Optuna trial samples, and exact parameter counting.

Example:
    >>> import optuna
    >>> space = SearchSpace(depth=(1, 4), units=(16, 256))
    >>> trial = optuna.trial.FixedTrial({"depth": 2, "units": 32, "learning_rate": 1e-3})
    >>> spec = space.sample(trial, n_features=2, n_outputs=1)
    >>> spec.widths, spec.n_params(2, 1)
    ((32, 32), 12833)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import optuna

from stacksearch.exceptions import ConfigError, TrialRejected

__all__ = [
    "SearchSpace",
    "ArchSpec",
    "rnn_layer_params",
    "WIDTH_MODES",
    "CELLS",
    "check_feasible",
    "depth_floors",
    "DepthFloor",
    "first_iso_target",
]

WIDTH_MODES = ("shared", "per_layer", "iso_params")
CELLS = ("lstm", "gru")
ISO_TOLERANCE = 0.05


def rnn_layer_params(cell: str, n_inputs: int, units: int) -> int:
    """Weights of one Keras recurrent layer (LSTM; GRU with ``reset_after=True``)."""
    if cell == "lstm":
        return 4 * (units * (n_inputs + units) + units)
    return 3 * (units * (n_inputs + units) + 2 * units)


@dataclass(frozen=True)
class ArchSpec:
    """One stacked recurrent architecture: ``widths[i]`` units in layer ``i`` (bottom first)."""

    widths: tuple[int, ...]
    learning_rate: float = 1e-3
    cell: str = "lstm"
    dropout: float = 0.0
    batch_size: int | None = None

    @property
    def depth(self) -> int:
        """Number of stacked recurrent layers."""
        return len(self.widths)

    def n_params(self, n_features: int, n_outputs: int) -> int:
        """Exact trainable weights of the model ``build_stacked_lstm`` makes from this spec."""
        total, n_in = 0, n_features
        for units in self.widths:
            total += rnn_layer_params(self.cell, n_in, units)
            n_in = units
        return total + (n_in + 1) * n_outputs


def _range(name: str, value: Sequence[float] | None, *, integer: bool, low: float) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value, value)
    if len(value) != 2:
        raise ConfigError(f"space.{name}: expected [min, max], got {list(value)!r}")
    lo, hi = value
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and int(v) != v):
            kind = "integers" if integer else "numbers"
            raise ConfigError(f"space.{name}: {v!r} is not a number; give [min, max] as {kind}")
    if lo < low:
        raise ConfigError(f"space.{name}: min {lo} is below {low}")
    if lo > hi:
        raise ConfigError(f"space.{name}: min {lo} > max {hi}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


@dataclass(frozen=True)
class SearchSpace:
    """Ranges an Optuna trial samples: depth, widths, learning rate and optional extras.

    ``width_mode``: ``shared`` (one ``units`` for every layer), ``per_layer``
    (``units_0..units_{depth-1}``; use ``TPESampler(group=True)``) or ``iso_params``
    (sample ``target_params``; widths solved so every depth lands within 5% of it).
    ``max_params`` rejects a trial before any model is built.
    """

    depth: tuple[int, int] = (1, 3)
    units: tuple[int, int] = (8, 128)
    width_mode: str = "shared"
    target_params: tuple[int, int] = (2_000, 200_000)
    learning_rate: tuple[float, float] = (1e-4, 1e-2)
    dropout: tuple[float, float] | None = None
    batch_size: tuple[int, ...] | None = None
    cell: tuple[str, ...] = ("lstm",)
    max_params: int | None = None
    units_log: bool = True

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("depth", _range("depth", self.depth, integer=True, low=1))
        set_("units", _range("units", self.units, integer=True, low=1))
        set_("target_params", _range("target_params", self.target_params, integer=True, low=1))
        set_("learning_rate", _range("learning_rate", self.learning_rate, integer=False, low=1e-12))
        set_("dropout", _range("dropout", self.dropout, integer=False, low=0.0))
        if self.dropout is not None and self.dropout[1] >= 1.0:
            raise ConfigError(f"space.dropout: max {self.dropout[1]} must be below 1")
        if self.width_mode not in WIDTH_MODES:
            raise ConfigError(f"space.width_mode: {self.width_mode!r} is not one of {', '.join(WIDTH_MODES)}")
        cells = (self.cell,) if isinstance(self.cell, str) else tuple(self.cell)
        for c in cells:
            if c not in CELLS:
                raise ConfigError(f"space.cell: {c!r} is not one of {', '.join(CELLS)}")
        set_("cell", cells)
        if self.batch_size is not None:
            sizes = (self.batch_size,) if isinstance(self.batch_size, int) else tuple(self.batch_size)
            if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes):
                raise ConfigError(f"space.batch_size: {list(sizes)!r} must be positive integers")
            set_("batch_size", sizes)
        if self.max_params is not None and self.max_params < 1:
            raise ConfigError(f"space.max_params: {self.max_params} must be positive")

    def sample(self, trial: optuna.Trial, n_features: int, n_outputs: int) -> ArchSpec:
        """Sample an :class:`ArchSpec` with the fixed parameter names; reject over budget.

        Raises :class:`TrialRejected` (with the reason) when the spec exceeds ``max_params``
        or no widths meet an ``iso_params`` budget within 5%.
        """
        depth = trial.suggest_int("depth", *self.depth)
        cell = trial.suggest_categorical("cell", list(self.cell)) if len(self.cell) > 1 else self.cell[0]
        if self.width_mode == "shared":
            widths = (trial.suggest_int("units", *self.units, log=self.units_log),) * depth
        elif self.width_mode == "per_layer":
            widths = tuple(trial.suggest_int(f"units_{i}", *self.units, log=self.units_log) for i in range(depth))
        else:
            target = trial.suggest_int("target_params", *self.target_params, log=True)
            widths = solve_iso_widths(cell, depth, target, n_features, n_outputs)
        learning_rate = trial.suggest_float("learning_rate", *self.learning_rate, log=True)
        dropout = trial.suggest_float("dropout", *self.dropout) if self.dropout else 0.0
        batch_size = trial.suggest_categorical("batch_size", list(self.batch_size)) if self.batch_size else None
        spec = ArchSpec(tuple(widths), learning_rate, cell, dropout, batch_size)
        n_params = spec.n_params(n_features, n_outputs)
        if self.max_params is not None and n_params > self.max_params:
            raise TrialRejected(
                f"{n_params} parameters exceed max_params={self.max_params} (depth {depth}, widths {list(widths)})"
            )
        return spec


def solve_iso_widths(cell: str, depth: int, target: int, n_features: int, n_outputs: int) -> tuple[int, ...]:
    """Widths for ``depth`` layers whose parameter count is closest to ``target``.

    Solves the exact count for a shared width ``u``, then lets the top ``k`` layers take
    ``u + 1`` to land closer. Raises :class:`TrialRejected` beyond 5% of the target.

    Example:
        >>> w = solve_iso_widths("lstm", 3, 50_000, 2, 1)
        >>> abs(ArchSpec(w).n_params(2, 1) - 50_000) / 50_000 < 0.05
        True
    """
    u_real = max(1.0, _shared_width(cell, depth, target, n_features, n_outputs))
    best: tuple[float, tuple[int, ...]] | None = None
    for u in {max(1, math.floor(u_real)), max(1, math.ceil(u_real)), max(1, math.floor(u_real) - 1)}:
        for k in range(depth + 1):
            widths = (u,) * (depth - k) + (u + 1,) * k
            err = abs(ArchSpec(widths, cell=cell).n_params(n_features, n_outputs) - target)
            if best is None or err < best[0]:
                best = (err, widths)
    assert best is not None
    if best[0] / target > ISO_TOLERANCE:
        raise TrialRejected(
            f"no widths reach target_params={target} within 5% at depth {depth}: "
            f"closest is {list(best[1])}; raise space.target_params"
        )
    return best[1]


def _shared_width(cell: str, depth: int, target: float, n_features: int, n_outputs: int) -> float:
    """The real width ``u`` at which ``depth`` layers of ``u`` units count ``target`` parameters."""
    gates = 4 if cell == "lstm" else 3
    bias = 1 if cell == "lstm" else 2
    # count(u) = a u^2 + b u + c for a shared width u
    a = gates * (1 + 2 * (depth - 1))
    b = gates * (n_features + bias) + gates * bias * (depth - 1) + n_outputs
    c = n_outputs - target
    return (-b + math.sqrt(max(0.0, b * b - 4 * a * c))) / (2 * a)


def first_iso_target(
    cell: str, depth: int, low: int, n_features: int, n_outputs: int, high: int | None = None
) -> tuple[int, tuple[int, ...]] | None:
    """The smallest ``target_params >= low`` that :func:`solve_iso_widths` meets at ``depth``, and its widths.

    None when it is above ``high``. Targets below the smallest model (widths of 1) are never
    met, and between small models there are gaps wider than 5%.

    Example:
        >>> first_iso_target("lstm", 1, 5, 1, 1)  # one LSTM unit: 14 parameters
        (14, (1,))
        >>> first_iso_target("lstm", 1, 5, 1, 1, high=10) is None
        True
    """
    start = max(1, math.floor(_shared_width(cell, depth, (1 - ISO_TOLERANCE) * low, n_features, n_outputs)) - 1)
    for u in range(start, start + 100_000):
        for k in range(depth):  # counts rise with u, and with k (the top k layers take u + 1)
            count = ArchSpec((u,) * (depth - k) + (u + 1,) * k, cell=cell).n_params(n_features, n_outputs)
            target = max(low, math.ceil(count / (1 + ISO_TOLERANCE)))
            if high is not None and target > high:
                return None
            if abs(count - target) > ISO_TOLERANCE * target:
                continue  # this count is below 95% of low
            try:
                return target, solve_iso_widths(cell, depth, target, n_features, n_outputs)
            except TrialRejected:
                continue
    return None


@dataclass(frozen=True)
class DepthFloor:
    """The smallest model trials at one depth build on data of a given shape.

    ``spec`` is None when no ``iso_params`` target in range is met at this depth; ``out``
    says why every trial at this depth is rejected (None when some are not).
    """

    depth: int
    spec: ArchSpec | None
    n_params: int | None
    out: str | None


def depth_floors(space: SearchSpace, n_features: int, n_outputs: int) -> list[DepthFloor]:
    """Per searched depth, the smallest model any trial there builds, over every cell.

    Widths at their minimum (``shared``, ``per_layer``), or the smallest ``target_params``
    that is met (``iso_params``); a depth is out when that model is over ``max_params`` or,
    for ``iso_params``, no target in range is met.
    """
    floors = []
    for depth in range(space.depth[0], space.depth[1] + 1):
        best: tuple[int, ArchSpec] | None = None
        for cell in space.cell:
            if space.width_mode == "iso_params":
                found = first_iso_target(
                    cell, depth, space.target_params[0], n_features, n_outputs, high=space.target_params[1]
                )
                if found is None:
                    continue
                widths = found[1]
            else:
                widths = (space.units[0],) * depth
            spec = ArchSpec(widths, cell=cell)
            count = spec.n_params(n_features, n_outputs)
            if best is None or count < best[0]:
                best = (count, spec)
        if best is None:
            lo, hi = space.target_params
            floors.append(DepthFloor(depth, None, None, f"no target_params in [{lo}, {hi}] is met within 5%"))
        elif space.max_params is not None and best[0] > space.max_params:
            reason = f"its smallest model has {best[0]} parameters, over max_params={space.max_params}"
            floors.append(DepthFloor(depth, best[1], best[0], reason))
        else:
            floors.append(DepthFloor(depth, best[1], best[0], None))
    return floors


def check_feasible(space: SearchSpace, n_features: int, n_outputs: int) -> dict[int, str]:
    """Refuse a space in which every trial would be rejected on data of this shape.

    Raises :class:`ConfigError` naming the key (``space.max_params`` or
    ``space.target_params``) and the least value that lets a trial through. Returns the
    depths that are out (every trial there is rejected) with the reason, for a warning.

    Example:
        >>> check_feasible(SearchSpace(depth=(1, 3), units=(8, 64), max_params=700), 2, 1)[2]
        'its smallest model has 905 parameters, over max_params=700'
        >>> check_feasible(SearchSpace(width_mode="iso_params", target_params=(5, 10)), 1, 1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stacksearch.exceptions.ConfigError: space.target_params: [5, 10] is out of reach ... at least 14
    """
    floors = depth_floors(space, n_features, n_outputs)
    out = {f.depth: f.out for f in floors if f.out is not None}
    if len(out) < len(floors):
        return out  # type: ignore[return-value]
    shape = f"{_plural(n_features, 'input feature')}, {_plural(n_outputs, 'output')}"
    sized = [f for f in floors if f.n_params is not None]
    if sized:  # every depth builds a model, but each is over max_params
        floor = min(sized, key=lambda f: (f.n_params, f.depth))
        spec = floor.spec
        assert spec is not None
        also = " (or lower space.target_params)" if space.width_mode == "iso_params" else ""
        raise ConfigError(
            f"space.max_params: {space.max_params} is below the smallest model this space builds on this "
            f"data ({floor.n_params} parameters: depth {spec.depth}, widths {list(spec.widths)}, {spec.cell}; "
            f"{shape}): raise it to at least {floor.n_params}{also}"
        )
    lo, hi = space.target_params
    reachable = [
        (found[0], depth, cell, found[1])
        for depth in range(space.depth[0], space.depth[1] + 1)
        for cell in space.cell
        if (found := first_iso_target(cell, depth, lo, n_features, n_outputs)) is not None
    ]
    target, depth, cell, widths = min(reachable)
    raise ConfigError(
        f"space.target_params: [{lo}, {hi}] is out of reach on this data ({shape}): no model this space builds "
        f"lands within 5% of it; the smallest target that works is {target} (depth {depth}, widths {list(widths)}, "
        f"{cell}), so raise the max to at least {target}"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
