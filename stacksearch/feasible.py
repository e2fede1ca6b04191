"""Whether a search space can build anything on data of a given shape, before a study is stored.

A space in which every trial would be rejected (a ``max_params`` below the smallest model
it builds, or ``target_params`` no model meets within 5%) is refused with the least value
that works; the depths that are out are named.

Example:
    >>> from stacksearch.space import SearchSpace
    >>> check_feasible(SearchSpace(depth=(1, 3), units=(8, 64), max_params=700), 2, 1)[2]
    'its smallest model has 905 parameters, over max_params=700'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

from stacksearch.exceptions import ConfigError, TrialRejected
from stacksearch.space import ISO_TOLERANCE, ArchSpec, SearchSpace, shared_width, solve_iso_widths

__all__ = ["check_feasible", "depth_floors", "DepthFloor", "first_iso_target"]


def first_iso_target(
    cell: str,
    depth: int,
    low: int,
    n_features: int,
    n_outputs: int,
    high: int | None = None,
    *,
    bidirectional: bool = False,
    residual: bool = False,
    sequence_output: bool = False,
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
    variant = {"bidirectional": bidirectional, "residual": residual}
    floor = shared_width(cell, depth, (1 - ISO_TOLERANCE) * low, n_features, n_outputs, **variant)
    start = max(1, math.floor(floor) - 1)
    for u in range(start, start + 100_000):
        for k in range(depth):  # counts rise with u, and with k (the top k layers take u + 1)
            spec = ArchSpec((u,) * (depth - k) + (u + 1,) * k, cell=cell, **variant)
            count = spec.n_params(n_features, n_outputs, sequence_output=sequence_output)
            target = max(low, math.ceil(count / (1 + ISO_TOLERANCE)))
            if high is not None and target > high:
                return None
            if abs(count - target) > ISO_TOLERANCE * target:
                continue  # this count is below 95% of low
            try:
                widths = solve_iso_widths(
                    cell, depth, target, n_features, n_outputs, **variant, sequence_output=sequence_output
                )
                return target, widths
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


def depth_floors(
    space: SearchSpace, n_features: int, n_outputs: int, *, sequence_output: bool = False
) -> list[DepthFloor]:
    """Per searched depth, the smallest model any trial there builds, over every cell and variant.

    Widths at their minimum (``shared``, ``per_layer``), or the smallest ``target_params``
    that is met (``iso_params``); a depth is out when that model is over ``max_params`` or,
    for ``iso_params``, no target in range is met.
    """
    floors = []
    for depth in range(space.depth[0], space.depth[1] + 1):
        best: tuple[int, ArchSpec] | None = None
        for cell, bidirectional, residual in _combinations(space):
            variant = {"bidirectional": bidirectional, "residual": residual}
            if space.width_mode == "iso_params":
                lo, hi = space.target_params
                found = first_iso_target(
                    cell, depth, lo, n_features, n_outputs, high=hi, **variant, sequence_output=sequence_output
                )
                if found is None:
                    continue
                widths = found[1]
            else:
                widths = (space.units[0],) * depth
            spec = ArchSpec(widths, cell=cell, **variant)
            count = spec.n_params(n_features, n_outputs, sequence_output=sequence_output)
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


def check_feasible(
    space: SearchSpace, n_features: int, n_outputs: int, *, sequence_output: bool = False
) -> dict[int, str]:
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
    floors = depth_floors(space, n_features, n_outputs, sequence_output=sequence_output)
    out = {f.depth: f.out for f in floors if f.out is not None}
    if len(out) < len(floors):
        return out
    shape = f"{_plural(n_features, 'input feature')}, {_plural(n_outputs, 'output')}"
    sized = [f for f in floors if f.n_params is not None]
    if sized:  # every depth builds a model, but each is over max_params
        floor = min(sized, key=lambda f: (f.n_params, f.depth))
        spec = floor.spec
        assert spec is not None
        also = " (or lower space.target_params)" if space.width_mode == "iso_params" else ""
        raise ConfigError(
            f"space.max_params: {space.max_params} is below the smallest model this space builds on this "
            f"data ({floor.n_params} parameters: depth {spec.depth}, widths {list(spec.widths)}, {_kind(spec)}; "
            f"{shape}): raise it to at least {floor.n_params}{also}"
        )
    lo, hi = space.target_params
    reachable = []
    for depth in range(space.depth[0], space.depth[1] + 1):
        for cell, bidirectional, residual in _combinations(space):
            variant = {"bidirectional": bidirectional, "residual": residual}
            found = first_iso_target(cell, depth, lo, n_features, n_outputs, **variant, sequence_output=sequence_output)
            if found is not None:
                reachable.append((found[0], depth, _kind(ArchSpec(found[1], cell=cell, **variant)), found[1]))
    target, depth, cell, widths = min(reachable)
    raise ConfigError(
        f"space.target_params: [{lo}, {hi}] is out of reach on this data ({shape}): no model this space builds "
        f"lands within 5% of it; the smallest target that works is {target} (depth {depth}, widths {list(widths)}, "
        f"{cell}), so raise the max to at least {target}"
    )


def _combinations(space: SearchSpace) -> list[tuple[str, bool, bool]]:
    """Every (cell, bidirectional, residual) a trial of ``space`` can build."""

    def choices(name: str) -> tuple[bool, ...]:
        value = getattr(space, name)
        return value if isinstance(value, tuple) else (value,)

    return list(product(space.cell, choices("bidirectional"), choices("residual")))


def _kind(spec: ArchSpec) -> str:
    """The cell and the variants of a model, for a message: ``lstm``, ``gru, bidirectional, residual``."""
    return ", ".join([spec.cell] + [name for name in ("bidirectional", "residual") if getattr(spec, name)])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
