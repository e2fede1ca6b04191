"""Old import paths kept for one release: each warns once where it is used and names the new home.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_moved("stacksearch.runner", "stacksearch.search")
    >>> str(caught[0].message)
    'stacksearch.runner is deprecated and will be removed in the next release: use stacksearch.search'
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

__all__ = ["warn_moved", "forwarder"]


def warn_moved(old: str, new: str) -> None:
    """Warn (DeprecationWarning, at the caller's caller) that ``old`` now lives at ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: use {new}", DeprecationWarning, stacklevel=3
    )


def forwarder(old_module: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that serves each moved name from its new module, with a warning.

    ``homes`` maps a name to the module it moved to.
    """

    def __getattr__(name: str) -> object:
        if name not in homes:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        warn_moved(f"{old_module}.{name}", f"{homes[name]}.{name}")
        return getattr(importlib.import_module(homes[name]), name)

    return __getattr__
