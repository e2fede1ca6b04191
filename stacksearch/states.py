"""Named sets of Optuna trial states, one meaning each.

Example:
    >>> from optuna.trial import TrialState
    >>> TrialState.FAIL in FINISHED, TrialState.FAIL in ENDED
    (False, True)
"""

from __future__ import annotations

from optuna.trial import TrialState

__all__ = ["FINISHED", "ENDED"]

FINISHED: tuple[TrialState, ...] = (TrialState.COMPLETE, TrialState.PRUNED)
"""Trials that count toward ``n_trials``: completed or pruned. A failed trial does not count
(a dead worker's trial is failed and queued again)."""

ENDED: tuple[TrialState, ...] = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
"""Trials that will not change any more: the states ``TrialState.is_finished()`` accepts."""
