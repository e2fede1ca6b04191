"""Preparing arrays for :class:`SequenceData`: stratified splits and padding variable-length sequences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stacksearch.exceptions import ConfigError, DataError

__all__ = ["stratified_split", "pad_sequences"]


def stratified_split(labels: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, held_out)`` with ``fraction`` of every class held out, chosen by ``seed``.

    Each class with at least two cases gives ``round(fraction * count)`` cases, at least
    one and never all of them. Both index arrays are sorted.

    Example:
        >>> keep, held = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25)
        >>> len(keep), len(held), sorted(np.array([0, 0, 0, 0, 1, 1, 1, 1])[held].tolist())
        (6, 2, [0, 1])
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"val_fraction {fraction!r} must be between 0 and 1 (exclusive)")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        count = min(max(int(np.floor(fraction * len(members) + 0.5)), 1), len(members) - 1)
        held.append(rng.permutation(members)[:count])
    held_out = np.sort(np.concatenate(held)) if held else np.array([], dtype=np.int64)
    keep = np.setdiff1d(np.arange(len(labels)), held_out)
    return keep, held_out


def pad_sequences(
    sequences: Sequence[np.ndarray], length: int | None = None, value: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``(steps, features)`` arrays into ``(cases, length, features)``; also the lengths.

    Example:
        >>> x, lengths = pad_sequences([np.ones((2, 3)), np.ones((4, 3))])
        >>> x.shape, lengths.tolist(), float(x[0, 3, 0])
        ((2, 4, 3), [2, 4], 0.0)
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    length = int(lengths.max()) if length is None else int(length)
    if lengths.max() > length:
        raise DataError(f"a sequence has {lengths.max()} steps, more than the padded length {length}")
    n_features = int(np.shape(sequences[0])[1])
    out = np.full((len(sequences), length, n_features), value, dtype=np.float64)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
    return out, lengths
