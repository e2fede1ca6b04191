"""The exceptions stacksearch raises.

Everything a user can cause derives from :class:`StackSearchError`; the CLI prints its
message on one line and exits with code 2.

Example:
    >>> try:
    ...     raise ConfigError("study.yaml: space.depth: min 3 > max 2")
    ... except StackSearchError as err:
    ...     print(err)
    study.yaml: space.depth: min 3 > max 2
"""

from __future__ import annotations

__all__ = [
    "StackSearchError",
    "ConfigError",
    "DataError",
    "StorageError",
    "TrackingError",
    "NoCompletedTrialError",
    "WorkerError",
    "TrialRejected",
]


class StackSearchError(Exception):
    """Root of every error a user can cause (bad file, bad data, unreachable service)."""


class ConfigError(StackSearchError, ValueError):
    """A study file, flag or environment variable is invalid (also a ``ValueError``: a bad value)."""


class DataError(StackSearchError):
    """Training data is malformed (shapes, non-finite values, labels out of range)."""


class StorageError(StackSearchError):
    """The Optuna storage is unsupported, unreachable, or does not hold the study."""


class TrackingError(StackSearchError):
    """MLflow tracking is misconfigured (not raised for transient server faults)."""


class NoCompletedTrialError(StackSearchError, ValueError):
    """The study holds no completed trial with a score: nothing to report, confirm or compare.

    Also a ``ValueError``, as Optuna's ``study.best_trial`` raises in the same case.
    """


class WorkerError(StackSearchError):
    """The worker processes of a study stopped before the study's trials were done."""


class TrialRejected(Exception):
    """One trial cannot run (for example over the parameter budget); the study goes on.

    Not a :class:`StackSearchError`: it never reaches the user as a failure.
    """
