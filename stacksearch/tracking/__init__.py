"""MLflow tracking, the only code that imports MLflow (lazily): the tracker, its runs, sync and the UI.

Example:
    >>> import stacksearch as ss
    >>> tracker = ss.MLflowTracker("sqlite:///mlflow.db", log_models="best")  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=20, callbacks=[tracker])  # doctest: +SKIP
    >>> print(sync_mlflow(study, tracker))  # doctest: +SKIP
    created 0, updated 1, killed 0, removed 0, unchanged 4
"""

from stacksearch.tracking.runs import RetryPolicy, SyncResult, mask_url, redact
from stacksearch.tracking.sync import sync_mlflow
from stacksearch.tracking.tracker import MLflowTracker
from stacksearch.tracking.ui import serve_ui, stop_ui

__all__ = ["MLflowTracker", "RetryPolicy", "SyncResult", "sync_mlflow", "serve_ui", "stop_ui", "mask_url", "redact"]
