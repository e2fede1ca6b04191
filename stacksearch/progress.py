"""A live progress bar for a study: trials done/total, best value, elapsed and ETA.

Example:
    >>> with StudyProgress(n_trials=10, direction="minimize") as progress:  # doctest: +SKIP
    ...     study.optimize(objective, n_trials=10, callbacks=[progress])
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
    """Rich progress bar used as an Optuna callback; counts every finished trial in storage."""

    def __init__(self, n_trials: int, direction: str, *, already: int = 0, console: Console | None = None) -> None:
        self.n_trials = n_trials
        self.direction = direction
        self.best = math.nan
        self._progress = Progress(
            TextColumn("[bold]trials"),
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
        self._task = self._progress.add_task("study", total=n_trials, completed=min(already, n_trials), best="-")

    def __enter__(self) -> StudyProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = 0
        for past in study.get_trials(deepcopy=False, states=FINISHED):
            finished += 1
            if past.state == TrialState.COMPLETE and past.values:
                value = past.values[0]
                if math.isnan(self.best) or better(value, self.best, self.direction):
                    self.best = value
        best = "-" if math.isnan(self.best) else f"{self.best:.4g}"
        self._progress.update(self._task, completed=min(finished, self.n_trials), best=best)
