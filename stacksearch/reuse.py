"""Compiled models kept between trials: a repeated architecture skips tracing and compiling.

A new Keras model traces its train and test steps on its first epoch (about 1.6 s of a small
trial on 2 cores, docs/performance.md). :class:`ModelCache` keeps the compiled model of the last
trial (more with ``size``), keyed by everything that fixes the traced program (:func:`program_key`: cell, widths,
bidirectional, residual, dropout; the data's features, outputs, task, masking and metric; the
batch size). A trial whose key matches takes the kept model and restarts it: a new model of the
same architecture is built, uncompiled, right after the trial's seed was set, exactly as a new
trial would build it, and all its variables (weights and dropout seed states) are copied into the
kept one; the optimizer's state is zeroed and its learning rate set to the trial's. The kept
model then trains exactly as a new one would: ``tests/integration/test_reuse.py`` checks the
histories are bit-identical on CPU, on TensorFlow and on JAX. (On JAX that needs
:func:`stacksearch.train.fit_model` to start training from the NumPy state it was called with:
JAX shuffles with NumPy's generator, and a new model draws from it once more while Keras builds
its metrics.) torch traces nothing to reuse. A model in
use is taken out of the cache, so two threads never share one. Why one model by default: a
kept model's traced graphs are some 100,000 Python objects that every trial's garbage
collection (in ``clear_session``) walks again, about 0.1 s per kept model per trial on 2 cores;
the confirmation retrains each architecture's seeds one after another, so one kept model gets
every repeat there, and the search rarely repeats an architecture further back.

Example:
    >>> cache = ModelCache()
    >>> len(cache), cache.size
    (0, 1)
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np

from stacksearch.data import SequenceData
from stacksearch.space import ArchSpec

if TYPE_CHECKING:
    import keras

__all__ = ["ModelCache", "program_key", "restart", "REUSE_BACKENDS"]

REUSE_BACKENDS = ("tensorflow", "jax")


def program_key(spec: ArchSpec, data: SequenceData, batch_size: int) -> Hashable:
    """Everything that fixes a stacked model's traced train and test steps (not its learning rate or seed).

    Example:
        >>> from stacksearch import benchmarks
        >>> data = benchmarks.load("adding", length=5, n_train=16, n_val=8, n_test=8)
        >>> program_key(ArchSpec((8,), 0.01), data, 32) == program_key(ArchSpec((8,), 0.003), data, 32)
        True
    """
    shape = (data.n_features, data.n_outputs, data.task, data.mask_value, data.metric)
    return dataclasses.replace(spec, learning_rate=0.0, batch_size=None), shape, batch_size


def restart(kept: keras.Model, new: keras.Model, learning_rate: float) -> keras.Model:
    """Give ``kept`` the variables of ``new`` (same architecture, uncompiled) and a fresh optimizer state."""
    if len(kept.variables) != len(new.variables):
        raise ValueError(f"cannot restart {kept.name} from {new.name}: their variables differ")
    for target, source in zip(kept.variables, new.variables, strict=True):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(f"cannot restart {kept.name}: {target.path} is {target.shape}, not {source.shape}")
        target.assign(source.value)
    optimizer = kept.optimizer
    for variable in optimizer.variables:
        variable.assign(np.zeros(tuple(variable.shape), dtype=variable.dtype))
    optimizer.learning_rate.assign(learning_rate)
    return kept


class ModelCache:
    """Up to ``size`` compiled models (default 1: the last trial's), the least recently returned dropped first.

    :meth:`take` returns a model ready to train (a kept one restarted, or a new compiled one) and
    removes it from the cache; :meth:`give_back` keeps it for the next trial of its key.
    """

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._models: OrderedDict[Hashable, keras.Model] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._models)

    def take(self, spec: ArchSpec, data: SequenceData, batch_size: int) -> tuple[keras.Model, bool]:
        """The trial's model, and whether it was reused; call right after the trial's seed is set."""
        from stacksearch.model import build_stacked_lstm, compile_for

        new = build_stacked_lstm(spec, data, compile=False)
        kept = self._models.pop(program_key(spec, data, batch_size), None)
        if kept is None:
            self.misses += 1
            compile_for(new, data, spec.learning_rate)
            return new, False
        self.hits += 1
        return restart(kept, new, spec.learning_rate), True

    def give_back(self, model: Any, spec: ArchSpec, data: SequenceData, batch_size: int) -> None:
        """Keep ``model`` for later trials of the same program."""
        if self.size <= 0:
            return
        key = program_key(spec, data, batch_size)
        self._models[key] = model
        self._models.move_to_end(key)
        while len(self._models) > self.size:
            self._models.popitem(last=False)

    def clear(self) -> None:
        """Drop every kept model."""
        self._models.clear()
