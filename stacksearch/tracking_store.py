"""Deprecated: moved to :mod:`stacksearch.tracking.calls`; kept for one release."""

from stacksearch._moved import forwarder

__getattr__ = forwarder(__name__, {"TrackerBase": "stacksearch.tracking.calls"})
