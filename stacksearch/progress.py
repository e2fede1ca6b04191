"""A live progress bar for a study: the phase (search, confirm), trials done/total, best value, elapsed and ETA.

Example:
    >>> with StudyProgress(n_trials=10, direction="minimize") as progress:  # doctest: +SKIP
    ...     study.optimize(objective, n_trials=10, callbacks=[progress])
    ...     progress.set_phase("confirm", total=9, completed=0)
"""

from __future__ import annotations

import math

import optuna
from optuna.trial import TrialState
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stacksearch.metrics import better
from stacksearch.states import FINISHED

__all__ = ["StudyProgress"]


class StudyProgress:
    """Rich progress bar used as an Optuna callback; counts every finished trial in storage.

    ``n_trials`` None: no trial target (a budget ends the search). :meth:`set_phase` switches
    the bar to the confirmation's retrainings; search trials that finish after it are not counted.
    """

    def __init__(
        self, n_trials: int | None, direction: str, *, already: int = 0, console: Console | None = None
    ) -> None:
        self.n_trials = n_trials
        self.direction = direction
        self.best = math.nan
        self.phase = "search"
        self._progress = Progress(
            TextColumn("[bold]{task.fields[phase]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        done = already if n_trials is None else min(already, n_trials)
        self._task = self._progress.add_task("study", total=n_trials, completed=done, best="-", phase="search")

    def __enter__(self) -> StudyProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def set_phase(self, phase: str, total: int | None, completed: int) -> None:
        """Show ``phase`` (``confirm``: retrainings) with ``completed`` of ``total`` done."""
        if phase != self.phase:
            self.phase = phase
            best = "-" if math.isnan(self.best) else f"{self.best:.4g}"
            self._progress.reset(self._task, total=total, completed=completed, phase=phase, best=best)
        else:
            self._progress.update(self._task, total=total, completed=completed)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.phase != "search":
            return
        finished = 0
        for past in study.get_trials(deepcopy=False, states=FINISHED):
            finished += 1
            if past.state == TrialState.COMPLETE and past.values:
                value = past.values[0]
                if math.isnan(self.best) or better(value, self.best, self.direction):
                    self.best = value
        best = "-" if math.isnan(self.best) else f"{self.best:.4g}"
        done = finished if self.n_trials is None else min(finished, self.n_trials)
        self._progress.update(self._task, completed=done, best=best)
