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
    "TrialRejected",
]


class StackSearchError(Exception):
    """Root of every error a user can cause (bad file, bad data, unreachable service)."""


class ConfigError(StackSearchError):
    """A study file, flag or environment variable is invalid."""


class DataError(StackSearchError):
    """Training data is malformed (shapes, non-finite values, labels out of range)."""


class StorageError(StackSearchError):
    """The Optuna storage is unsupported, unreachable, or does not hold the study."""


class TrackingError(StackSearchError):
    """MLflow tracking is misconfigured (not raised for transient server faults)."""


class TrialRejected(Exception):
    """One trial cannot run (for example over the parameter budget); the study goes on.

    Not a :class:`StackSearchError`: it never reaches the user as a failure.
    """
