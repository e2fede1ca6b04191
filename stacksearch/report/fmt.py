"""Number and architecture formatting shared by the verdict and the renderers.

Example:
    >>> number(0.123456), architecture(3, (64, 64, 64)), architecture(2, (64, 32)), duration(9000)
    ('0.1235', '3 x 64', '2 layers [64, 32]', '2.5 h')
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["number", "architecture", "duration", "interval"]


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, whole from 1,000 up; ``"-"`` for None.

    Example:
        >>> number(1423126), number(619716.7), number(2.5e-05), number(None)
        ('1,423,126', '619,717', '2.5e-05', '-')
    """
    if value is None:
        return "-"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def architecture(depth: int | None, widths: Sequence[float] | None) -> str:
    """``"3 x 64"`` for equal widths, ``"2 layers [64, 32]"`` otherwise (bottom layer first)."""
    if not widths:
        return f"depth {depth}" if depth is not None else "unknown architecture"
    if len(set(widths)) == 1:
        return f"{len(widths)} x {number(widths[0])}"
    return f"{len(widths)} layers [{', '.join(number(w) for w in widths)}]"


def duration(seconds: float | None) -> str:
    """Seconds as ``"42 s"``, ``"3.5 min"`` or ``"1.5 h"``."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def interval(low: float | None, high: float | None, clipped: tuple[bool, bool] = (False, False)) -> str:
    """``"[0.1, 0.2]"``, or ``"-"`` when either end is missing; ``*`` marks an end moved onto the
    metric's range (``clipped``: low, high), e.g. ``"[0*, 0.7678]"``."""
    if low is None or high is None:
        return "-"
    marks = ["*" if flag else "" for flag in clipped]
    return f"[{number(low)}{marks[0]}, {number(high)}{marks[1]}]"
