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
from typing import Any

import optuna

from stacksearch.exceptions import ConfigError, TrialRejected

__all__ = ["SearchSpace", "ArchSpec", "rnn_layer_params", "solve_iso_widths", "WIDTH_MODES", "CELLS", "VARIANTS"]

WIDTH_MODES = ("shared", "per_layer", "iso_params")
CELLS = ("lstm", "gru")
VARIANTS = ("bidirectional", "residual")
ISO_TOLERANCE = 0.05


def rnn_layer_params(cell: str, n_inputs: int, units: int) -> int:
    """Weights of one Keras recurrent layer (LSTM; GRU with ``reset_after=True``)."""
    if cell == "lstm":
        return 4 * (units * (n_inputs + units) + units)
    return 3 * (units * (n_inputs + units) + 2 * units)


@dataclass(frozen=True)
class ArchSpec:
    """One stacked recurrent architecture: ``widths[i]`` units in layer ``i`` (bottom first).

    ``bidirectional``: every layer reads both ways (``widths`` are units per direction, so
    a layer outputs ``2 * width`` features). ``residual``: every layer that outputs a
    sequence adds its input to its output, unchanged where the sizes match and through a
    linear projection (a bias-free ``Dense``, ``inputs x outputs`` weights, counted) where
    they differ; a last layer that returns one vector has no connection (sequence in,
    vector out).

    Example:
        >>> ArchSpec((8, 8), bidirectional=True, residual=True).connections(2)
        ('projection', None)
        >>> ArchSpec((8, 8), residual=True).n_params(2, 1), ArchSpec((8, 8)).n_params(2, 1)
        (921, 905)
    """

    widths: tuple[int, ...]
    learning_rate: float = 1e-3
    cell: str = "lstm"
    dropout: float = 0.0
    batch_size: int | None = None
    bidirectional: bool = False
    residual: bool = False

    @property
    def depth(self) -> int:
        """Number of stacked recurrent layers."""
        return len(self.widths)

    @property
    def directions(self) -> int:
        """2 for bidirectional layers, else 1."""
        return 2 if self.bidirectional else 1

    def connections(self, n_features: int, *, sequence_output: bool = False) -> tuple[str | None, ...]:
        """Per layer: ``identity``, ``projection`` or None (no residual connection).

        ``sequence_output``: the last layer returns a sequence (sequence labelling).
        """
        out: list[str | None] = []
        n_in = n_features
        for index, units in enumerate(self.widths):
            returns_sequence = index < self.depth - 1 or sequence_output
            if not self.residual or not returns_sequence:
                out.append(None)
            else:
                out.append("identity" if n_in == self.directions * units else "projection")
            n_in = self.directions * units
        return tuple(out)

    def stack_params(self, n_features: int, *, sequence_output: bool = False) -> int:
        """Exact weights of the recurrent stack alone (layers and projections, no head)."""
        total, n_in = 0, n_features
        links = self.connections(n_features, sequence_output=sequence_output)
        for units, link in zip(self.widths, links):
            n_out = self.directions * units
            total += self.directions * rnn_layer_params(self.cell, n_in, units)
            total += n_in * n_out if link == "projection" else 0
            n_in = n_out
        return total

    def n_params(self, n_features: int, n_outputs: int, *, sequence_output: bool = False) -> int:
        """Exact trainable weights of the model ``build_stacked_lstm`` makes from this spec.

        ``n_outputs=0`` counts the stack alone; ``sequence_output`` only matters with ``residual``.
        """
        head = (self.directions * self.widths[-1] + 1) * n_outputs if self.widths else 0
        return self.stack_params(n_features, sequence_output=sequence_output) + head


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
    ``max_params`` rejects a trial before any model is built. ``bidirectional`` and
    ``residual`` (see :class:`ArchSpec`): a bool fixes the variant for every trial, the
    tuple ``(False, True)`` searches it (trial parameters of the same names). ``units_step``
    samples widths on a grid of that step from the minimum (evenly, not on a log scale), so
    architectures repeat and a repeated one trains on its kept compiled model.

    Example:
        >>> SearchSpace(bidirectional=(False, True)).bidirectional
        (False, True)
        >>> trial = optuna.trial.FixedTrial({"depth": 2, "units": 24, "learning_rate": 1e-3})
        >>> SearchSpace(units=(8, 64), units_step=8).sample(trial, 1, 1).widths
        (24, 24)
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
    bidirectional: bool | tuple[bool, ...] = False
    residual: bool | tuple[bool, ...] = False
    units_step: int | None = None

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
        for name in VARIANTS:
            set_(name, _choices(name, getattr(self, name)))
        if self.units_step is not None:
            _check_units_step(self.units_step, self.units, self.width_mode)

    def suggest_units(self, trial: optuna.trial.BaseTrial, name: str) -> int:
        """One width parameter (``units`` or ``units_i``): on the ``units_step`` grid if set, else log-uniform."""
        if self.units_step is not None and self.units_step > 1:
            return trial.suggest_int(name, *self.units, step=self.units_step)
        return trial.suggest_int(name, *self.units, log=self.units_log)

    def sample(
        self, trial: optuna.trial.BaseTrial, n_features: int, n_outputs: int, *, sequence_output: bool = False
    ) -> ArchSpec:
        """Sample an :class:`ArchSpec` with the fixed parameter names; reject over budget.

        ``n_outputs=0`` budgets the stack alone (no head); ``sequence_output``: the last
        layer returns a sequence (it changes the count only with ``residual``). Raises
        :class:`TrialRejected` (with the reason) when the spec exceeds ``max_params`` or no
        widths meet an ``iso_params`` budget within 5%.
        """
        depth = trial.suggest_int("depth", *self.depth)
        cell = trial.suggest_categorical("cell", list(self.cell)) if len(self.cell) > 1 else self.cell[0]
        bidirectional, residual = (self.variant(trial, name) for name in VARIANTS)
        if self.width_mode == "shared":
            widths = (self.suggest_units(trial, "units"),) * depth
        elif self.width_mode == "per_layer":
            widths = tuple(self.suggest_units(trial, f"units_{i}") for i in range(depth))
        else:
            target = trial.suggest_int("target_params", *self.target_params, log=True)
            widths = solve_iso_widths(
                cell,
                depth,
                target,
                n_features,
                n_outputs,
                bidirectional=bidirectional,
                residual=residual,
                sequence_output=sequence_output,
            )
        learning_rate = trial.suggest_float("learning_rate", *self.learning_rate, log=True)
        dropout = trial.suggest_float("dropout", *self.dropout) if self.dropout else 0.0
        batch_size = trial.suggest_categorical("batch_size", list(self.batch_size)) if self.batch_size else None
        spec = ArchSpec(tuple(widths), learning_rate, cell, dropout, batch_size, bidirectional, residual)
        n_params = spec.n_params(n_features, n_outputs, sequence_output=sequence_output)
        if self.max_params is not None and n_params > self.max_params:
            raise TrialRejected(
                f"{n_params} parameters exceed max_params={self.max_params} (depth {depth}, widths {list(widths)})"
            )
        return spec

    def variant(self, trial: optuna.trial.BaseTrial, name: str) -> bool:
        """``bidirectional`` or ``residual`` for this trial: its parameter when searched, else the fixed value."""
        choices = getattr(self, name)
        return bool(trial.suggest_categorical(name, list(choices))) if len(choices) > 1 else choices[0]

    def variant_attrs(self, params: dict[str, Any]) -> dict[str, bool]:
        """The ``bidirectional`` and ``residual`` user attributes of a trial with these parameters."""
        return {name: bool(params.get(name, getattr(self, name)[0])) for name in VARIANTS}


def _check_units_step(step: Any, units: tuple[int, int], width_mode: str) -> None:
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ConfigError(f"space.units_step: {step!r} must be a positive integer (e.g. 8), or left out")
    if width_mode == "iso_params":
        raise ConfigError("space.units_step: iso_params solves the widths from target_params; leave units_step out")
    lo, hi = units
    if (hi - lo) % step:
        raise ConfigError(
            f"space.units_step: {step} does not divide the units range [{lo}, {hi}]; "
            f"make max - min a multiple of it (e.g. units: [{lo}, {lo + (hi - lo) // step * step}])"
        )


def _choices(name: str, value: Any) -> tuple[bool, ...]:
    values = (value,) if isinstance(value, bool) else tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values or any(not isinstance(v, bool) for v in values) or len(set(values)) != len(values):
        raise ConfigError(f"space.{name}: {value!r} is not true, false or [false, true]")
    return values


def solve_iso_widths(
    cell: str,
    depth: int,
    target: int,
    n_features: int,
    n_outputs: int,
    *,
    bidirectional: bool = False,
    residual: bool = False,
    sequence_output: bool = False,
) -> tuple[int, ...]:
    """Widths for ``depth`` layers whose parameter count is closest to ``target``.

    Solves the exact count for a shared width ``u``, then lets the top ``k`` layers take
    ``u + 1`` to land closer (counting, with ``residual``, the projection where the width
    steps up). Raises :class:`TrialRejected` beyond 5% of the target.

    Example:
        >>> w = solve_iso_widths("lstm", 3, 50_000, 2, 1)
        >>> abs(ArchSpec(w).n_params(2, 1) - 50_000) / 50_000 < 0.05
        True
    """
    u_real = max(
        1.0,
        shared_width(
            cell,
            depth,
            target,
            n_features,
            n_outputs,
            bidirectional=bidirectional,
            residual=residual,
            sequence_output=sequence_output,
        ),
    )
    best: tuple[float, tuple[int, ...]] | None = None
    for u in {max(1, math.floor(u_real)), max(1, math.ceil(u_real)), max(1, math.floor(u_real) - 1)}:
        for k in range(depth + 1):
            widths = (u,) * (depth - k) + (u + 1,) * k
            spec = ArchSpec(widths, cell=cell, bidirectional=bidirectional, residual=residual)
            err = abs(spec.n_params(n_features, n_outputs, sequence_output=sequence_output) - target)
            if best is None or err < best[0]:
                best = (err, widths)
    assert best is not None
    if best[0] / target > ISO_TOLERANCE:
        raise TrialRejected(
            f"no widths reach target_params={target} within 5% at depth {depth}: "
            f"closest is {list(best[1])}; raise space.target_params"
        )
    return best[1]


def shared_width(
    cell: str,
    depth: int,
    target: float,
    n_features: int,
    n_outputs: int,
    *,
    bidirectional: bool = False,
    residual: bool = False,
    sequence_output: bool = False,
) -> float:
    """The real width ``u`` at which ``depth`` layers of ``u`` units (per direction) count about ``target``.

    Exact for plain stacks; with ``residual`` the bottom layer's projection is counted and
    the exact count of the nearby integer widths decides (:func:`solve_iso_widths`).

    Example:
        >>> round(shared_width("lstm", 1, 14, 1, 1), 6)
        1.0
    """
    gates = 4 if cell == "lstm" else 3
    bias = 1 if cell == "lstm" else 2
    dirs = 2 if bidirectional else 1
    # count(u) = a u^2 + b u + c for a shared width u (bottom layer reads n_features, the rest dirs * u)
    a = dirs * gates * (1 + (dirs + 1) * (depth - 1))
    b = dirs * gates * (n_features + bias) + dirs * gates * bias * (depth - 1) + dirs * n_outputs
    if residual and (depth > 1 or sequence_output):
        b += n_features * dirs  # the bottom layer's projection
    c = n_outputs - target
    return (-b + math.sqrt(max(0.0, b * b - 4 * a * c))) / (2 * a)
