"""Budgets as study files and flags write them: a duration (``20m``, ``1h30m``, ``90s``), seconds, or epochs.

Example:
    >>> parse_budget("1h30m"), parse_budget("600 epochs"), parse_budget(90), parse_budget(None)
    (('seconds', 5400.0), ('epochs', 600.0), ('seconds', 90.0), None)
"""

from __future__ import annotations

import re

__all__ = ["parse_budget", "BUDGET_HINT"]

_EPOCHS = re.compile(r"(\d+)\s*epochs?")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?")
BUDGET_HINT = "give a duration (20m, 1h30m, 90s), a number of seconds, or epochs (600 epochs)"


def parse_budget(value: str | float | None) -> tuple[str, float] | None:
    """A budget as ``("seconds", s)`` or ``("epochs", n)``; None for no budget. Raises ValueError.

    Example:
        >>> parse_budget("20m")
        ('seconds', 1200.0)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(BUDGET_HINT)
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = re.sub(r"\s+", " ", str(value).strip().lower())
        epochs = _EPOCHS.fullmatch(text)
        if epochs:
            if int(epochs.group(1)) < 1:
                raise ValueError("must be 1 epoch or more")
            return ("epochs", float(epochs.group(1)))
        try:
            seconds = float(text)
        except ValueError:
            duration = _DURATION.fullmatch(text.replace(" ", ""))
            if not text or duration is None or not any(duration.groups()):
                raise ValueError(BUDGET_HINT) from None
            hours, minutes, secs = (float(part or 0) for part in duration.groups())
            seconds = 3600 * hours + 60 * minutes + secs
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"must be more than 0 seconds; {BUDGET_HINT}")
    return ("seconds", seconds)
