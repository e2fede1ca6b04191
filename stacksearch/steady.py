"""Steady epochs: what a trial's training would cost if building, tracing and compiling were free.

A trial records ``epoch_seconds``, the wall time of each epoch (training and validation). Its
first epoch also traces (TensorFlow) or compiles (JAX) the train and test steps; later epochs
run the traced program. A trial's steady seconds are its epochs times the median of its epochs
after the first (:func:`steady_per_epoch`). A one-epoch trial (pruned at once, or resumed with
one epoch left) has no steady epoch of its own: it borrows the steady epoch of the trial whose
parameter count is nearest (:func:`steady_total`), or, when no trial has two epochs, its own
epoch, so the limit is never understated by a guess.

The limit ratio of a run is its worker-seconds (wall time x workers) over the sum of its trials'
steady seconds: 1.0 would mean the run did nothing but train steady epochs.

Example:
    >>> steady_per_epoch([2.1, 0.31, 0.29, 0.30])
    0.3
    >>> round(steady_total([(4, [2.1, 0.31, 0.29, 0.30], 1000), (1, [1.9], 1100)]), 3)
    1.5
    >>> limit_ratio(wall_seconds=6.0, workers=1, steady_seconds=1.5)
    4.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import median

__all__ = ["steady_per_epoch", "steady_total", "limit_ratio", "TrialTiming"]

TrialTiming = tuple[int, Sequence[float], "int | None"]  # (epochs trained, epoch seconds, parameter count)


def steady_per_epoch(epoch_seconds: Sequence[float]) -> float | None:
    """The median epoch after the first, or None with fewer than two epochs."""
    later = [s for s in epoch_seconds[1:] if math.isfinite(s) and s >= 0]
    return median(later) if later else None


def steady_total(trials: Iterable[TrialTiming]) -> float:
    """The summed steady seconds of ``trials`` (epochs trained, epoch seconds, parameter count)."""
    trials = [t for t in trials if t[0] > 0 and t[1]]
    known = [(n_params, per) for _, seconds, n_params in trials if (per := steady_per_epoch(seconds)) is not None]
    total = 0.0
    for epochs, seconds, n_params in trials:
        per = steady_per_epoch(seconds)
        if per is None:
            per = _nearest(known, n_params) if known else float(seconds[0])
        total += epochs * per
    return total


def _nearest(known: Sequence[tuple[int | None, float]], n_params: int | None) -> float:
    """The steady epoch of the trial nearest in parameter count (by ratio); the median without counts."""
    sized = [(p, per) for p, per in known if p]
    if not n_params or not sized:
        return median(per for _, per in known)
    return min(sized, key=lambda pair: abs(math.log(pair[0] / n_params)))[1]


def limit_ratio(wall_seconds: float, workers: int, steady_seconds: float) -> float | None:
    """Worker-seconds over steady seconds (None when nothing trained).

    Example:
        >>> limit_ratio(95.0, 1, 41.0) > 2.3, limit_ratio(10.0, 2, 0.0)
        (True, None)
    """
    if steady_seconds <= 0:
        return None
    return wall_seconds * max(1, workers) / steady_seconds
