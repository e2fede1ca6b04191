"""Sequence data (numpy only): :class:`SequenceData`, forecasting windows, data files, preparation.

Example:
    >>> import numpy as np
    >>> from stacksearch.data import SequenceData
    >>> x = np.zeros((8, 5, 1), dtype="float32")
    >>> SequenceData(x, np.zeros(8), x, np.zeros(8)).n_features
    1
"""

from stacksearch._moved import forwarder
from stacksearch.data.files import load_csv, load_npz
from stacksearch.data.forecast import forecast_windows, split_bounds
from stacksearch.data.prep import pad_sequences, stratified_split
from stacksearch.data.sequence import TASKS, SequenceData

__all__ = [
    "SequenceData",
    "TASKS",
    "load_npz",
    "load_csv",
    "forecast_windows",
    "split_bounds",
    "stratified_split",
    "pad_sequences",
    "load_data_section",
]


__getattr__ = forwarder(__name__, {"load_data_section": "stacksearch.sources"})  # moved: it reads a config section
