"""Deprecated: moved to :mod:`stacksearch.tracking.sync` and :mod:`stacksearch.tracking.ui`; kept for one release."""

from stacksearch._moved import forwarder

__getattr__ = forwarder(
    __name__,
    {
        **dict.fromkeys(("SyncResult", "sync_mlflow", "sync_trials"), "stacksearch.tracking.sync"),
        **dict.fromkeys(("serve_ui", "stop_ui"), "stacksearch.tracking.ui"),
    },
)
