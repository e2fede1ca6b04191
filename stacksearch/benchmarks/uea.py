"""UCR/UEA classification sets read from the files shipped inside ``aeon`` (never downloaded).

The official train/test split is kept; validation is carved from train, stratified, with
a fixed seed. aeon's ``(cases, channels, length)`` becomes ``(cases, length, channels)``;
unequal-length sets (JapaneseVowels) are right-padded with ``mask_value`` so the model
masks the padding. Channels are standardised with the training part's statistics.

Example:
    >>> data = load_uea("gunpoint")  # doctest: +SKIP
    >>> data.x_train.shape, data.n_classes  # doctest: +SKIP
    ((38, 150, 1), 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stacksearch.benchmarks import register, require
from stacksearch.data import SequenceData, pad_sequences, stratified_split
from stacksearch.exceptions import ConfigError, DataError

__all__ = [
    "UEA_SETS",
    "load_uea",
    "read_shipped",
    "load_gunpoint",
    "load_italy_power_demand",
    "load_arrow_head",
    "load_japanese_vowels",
    "load_basic_motions",
]

_CEILING = "a ceiling from a convolutional-recurrent hybrid, not what a plain stacked LSTM must reach"


@dataclass(frozen=True)
class UEASet:
    """One shipped problem: aeon's file name, and the literature figure (test accuracy)."""

    problem: str
    reference: dict[str, Any] | None


UEA_SETS: dict[str, UEASet] = {
    "gunpoint": UEASet(
        "GunPoint",
        {"value": 1.0, "source": f"LSTM-FCN (Karim et al. 2018) test accuracy; FCN 1.000, ResNet 0.991; {_CEILING}"},
    ),
    "italy_power_demand": UEASet(
        "ItalyPowerDemand",
        {"value": 0.962, "source": f"LSTM-FCN (Karim et al. 2018) test accuracy; FCN 0.961; {_CEILING}"},
    ),
    "arrow_head": UEASet(
        "ArrowHead",
        {"value": 0.897, "source": f"LSTM-FCN (Karim et al. 2018) test accuracy; FCN 0.843; {_CEILING}"},
    ),
    "japanese_vowels": UEASet(
        "JapaneseVowels",
        {"value": 1.0, "source": f"MLSTM-FCN (Karim et al. 2019) test accuracy; FCN 0.993; {_CEILING}"},
    ),
    "basic_motions": UEASet("BasicMotions", None),
}


def read_shipped(problem: str, part: str, benchmark: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Read ``<problem>_<part>.ts`` from aeon's own data folder: ``(cases of (length, channels), labels)``.

    Only the installed files are read (``aeon.datasets.load_from_ts_file``); a missing
    file is a :class:`DataError`, never a download.
    """
    datasets = require("aeon.datasets", benchmark)
    path = Path(str(datasets.__file__)).parent / "data" / problem / f"{problem}_{part}.ts"
    if not path.is_file():
        version = getattr(require("aeon", benchmark), "__version__", "?")
        raise DataError(
            f"benchmark {benchmark!r}: {path} is not in the installed aeon {version}; stacksearch reads only "
            f'the files aeon ships and never downloads: reinstall it with pip install "stacksearch[benchmarks]"'
        )
    x, y = datasets.load_from_ts_file(str(path), return_type="np-list")
    return [np.asarray(case, dtype=np.float64).T for case in x], np.asarray(y).astype(str)


def _label_order(labels: np.ndarray) -> list[str]:
    """Distinct labels, numerically sorted when all are numbers, else alphabetically."""
    distinct = sorted(set(labels.tolist()))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct


def load_uea(name: str, val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """Load the shipped UCR/UEA problem registered as ``name`` (see :data:`UEA_SETS`).

    ``val_fraction`` of every class of the official training set becomes the validation
    set (drawn with ``seed``); the official test set is the test set. Labels map to
    ``0..k-1`` in sorted order (``meta["classes"]`` keeps the originals).
    """
    if name not in UEA_SETS:
        raise ConfigError(f"unknown UCR/UEA set {name!r}; choose one of {', '.join(UEA_SETS)}")
    spec = UEA_SETS[name]
    x_official, y_official = read_shipped(spec.problem, "TRAIN", name)
    x_test_list, y_test_raw = read_shipped(spec.problem, "TEST", name)
    classes = _label_order(np.concatenate([y_official, y_test_raw]))
    index = {label: i for i, label in enumerate(classes)}
    y_all = np.array([index[v] for v in y_official], dtype=np.int32)
    y_test = np.array([index[v] for v in y_test_raw], dtype=np.int32)

    keep, held = stratified_split(y_all, val_fraction, seed)
    cases = x_official + list(x_test_list)
    lengths = np.array([len(c) for c in cases])
    unequal = bool(lengths.min() != lengths.max())
    mask_value = 0.0 if unequal else None

    train_steps = np.concatenate([x_official[i] for i in keep], axis=0)
    mean = train_steps.mean(axis=0)
    std = train_steps.std(axis=0)
    std[std == 0] = 1.0
    scaled = [(c - mean) / std for c in cases]
    if unequal and any(np.any(np.all(c == mask_value, axis=1)) for c in scaled):
        raise DataError(f"benchmark {name!r}: a real time step equals the padding value {mask_value}")
    padded, lengths = pad_sequences(scaled, value=mask_value or 0.0)
    n_official = len(x_official)
    x_train, x_val, x_test = padded[keep], padded[held], padded[n_official:]

    majority = int(np.argmax(np.bincount(y_all[keep], minlength=len(classes))))
    return SequenceData(
        x_train,
        y_all[keep],
        x_val,
        y_all[held],
        x_test,
        y_test,
        task="classification",
        metric="accuracy",
        n_classes=len(classes),
        mask_value=mask_value,
        name=name,
        reference=spec.reference,
        meta={
            "source": f"aeon shipped {spec.problem}_TRAIN.ts / {spec.problem}_TEST.ts",
            "classes": classes,
            "class_counts": {
                part: np.bincount(y, minlength=len(classes)).tolist()
                for part, y in (("train", y_all[keep]), ("val", y_all[held]), ("test", y_test))
            },
            "lengths": [int(lengths.min()), int(lengths.max())],
            "baseline_kind": "majority class",
            "baselines": {"majority": {"test": float(np.mean(y_test == majority))}},
            "scaling": {"mean": mean.tolist(), "std": std.tolist()},
        },
    )


@register("gunpoint", "GunPoint (UCR): 2 classes, length 150, 50/150 official split, accuracy", extra="benchmarks")
def load_gunpoint(val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """GunPoint: hand motion with or without a gun, 1 channel, 150 steps."""
    return load_uea("gunpoint", val_fraction, seed)


@register(
    "italy_power_demand", "ItalyPowerDemand (UCR): 2 classes, length 24, 67/1029 split, accuracy", extra="benchmarks"
)
def load_italy_power_demand(val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """ItalyPowerDemand: winter or summer day from 24 hourly loads, 1 channel."""
    return load_uea("italy_power_demand", val_fraction, seed)


@register("arrow_head", "ArrowHead (UCR): 3 classes, length 251, 36/175 split, accuracy", extra="benchmarks")
def load_arrow_head(val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """ArrowHead: arrowhead outlines as 1-D series, 3 classes, 251 steps."""
    return load_uea("arrow_head", val_fraction, seed)


@register(
    "japanese_vowels",
    "JapaneseVowels (UEA): 9 speakers, 12 channels, lengths 7-29 right-padded and masked, accuracy",
    extra="benchmarks",
)
def load_japanese_vowels(val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """JapaneseVowels: 12 LPC cepstrum channels, unequal lengths padded to 29 with ``mask_value`` 0."""
    return load_uea("japanese_vowels", val_fraction, seed)


@register(
    "basic_motions",
    "BasicMotions (UEA): 4 activities, 6 channels, length 100, 40/40 split, accuracy",
    extra="benchmarks",
)
def load_basic_motions(val_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """BasicMotions: accelerometer and gyroscope (6 channels, 100 steps), 4 activities."""
    return load_uea("basic_motions", val_fraction, seed)
