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

__all__ = ["SearchSpace", "ArchSpec", "rnn_layer_params", "WIDTH_MODES", "CELLS"]

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
    gates = 4 if cell == "lstm" else 3
    bias = 1 if cell == "lstm" else 2
    # count(u) = a u^2 + b u + c for a shared width u
    a = gates * (1 + 2 * (depth - 1))
    b = gates * (n_features + bias) + gates * bias * (depth - 1) + n_outputs
    c = n_outputs - target
    u_real = max(1.0, (-b + math.sqrt(max(0.0, b * b - 4 * a * c))) / (2 * a))
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
