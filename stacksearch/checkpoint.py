"""Per-epoch checkpoints of running trials, so a retried trial resumes instead of restarting.

After every epoch a trial uploads one file with :mod:`optuna.artifacts` (model weights,
optimizer state, best-epoch weights, history and early-stopping state) and removes the
previous epoch's file. When a worker dies, Optuna's ``RetryHeartbeatStaleTrialCallback``
queues a copy of the trial with the same parameters and *all its system attributes*,
including the ``artifacts:`` entries and ``failed_trial``; the copy finds the newest
checkpoint there and continues from the next epoch. A finished trial deletes its files.

The files live in a :class:`~optuna.artifacts.FileSystemArtifactStore` folder: by default
``<db name>.artifacts/`` beside an SQLite file, ``./stacksearch-artifacts`` for a server
database (give every machine the same shared folder, ``study.artifacts`` or
``STACKSEARCH_ARTIFACTS``, or retried trials on other machines start from scratch).

Example:
    >>> store = CheckpointStore.for_config("sqlite:///study.db")  # doctest: +SKIP
    >>> objective = StackedLSTMObjective(data, space, checkpoints=store)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta, upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound

from stacksearch.settings import ARTIFACTS_FOLDER, SETTINGS, resolve
from stacksearch.storage import sqlite_file

if TYPE_CHECKING:
    import keras

__all__ = ["CheckpointStore", "TrialCheckpoint", "Resume", "default_folder", "ARTIFACTS_ENV"]

_log = logging.getLogger(__name__)
ARTIFACTS_ENV = SETTINGS["artifacts"].env
_NAME = re.compile(r"^checkpoint-trial(\d+)-epoch(\d+)\.npz$")


def default_folder(storage_url: str) -> Path:
    """Where checkpoints go when nothing is configured: beside an SQLite file, else ./stacksearch-artifacts."""
    path = sqlite_file(storage_url)
    if path is not None:
        return path.with_name(path.name + ".artifacts")
    return Path(ARTIFACTS_FOLDER)


@dataclass
class Resume:
    """What a checkpoint restores: the last completed ``epoch`` and the fit's state."""

    epoch: int
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    best_weights: list[np.ndarray] | None
    state: dict[str, Any] = field(default_factory=dict)
    source_trial: int = -1

    def restore_model(self, model: keras.Model) -> None:
        """Load the weights and, where shapes match, the optimizer state into ``model``."""
        model.set_weights(self.weights)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or not self.optimizer:
            return
        if not getattr(optimizer, "built", False):
            optimizer.build(model.trainable_variables)
        variables = list(optimizer.variables)
        if len(variables) != len(self.optimizer) or any(
            tuple(v.shape) != a.shape for v, a in zip(variables, self.optimizer)
        ):
            _log.warning(
                "checkpoint of trial %d: optimizer state does not fit; resuming with fresh optimizer state",
                self.source_trial,
            )
            return
        for variable, value in zip(variables, self.optimizer):
            variable.assign(value)


class TrialCheckpoint:
    """The checkpoints of one running trial (made by :meth:`CheckpointStore.for_trial`)."""

    def __init__(self, store: CheckpointStore, trial: optuna.Trial) -> None:
        self.store, self.trial = store, trial
        self._current: str | None = None
        self.resumed_from: int | None = None

    def _candidates(self) -> list[tuple[int, int, str]]:
        """(epoch, trial number, artifact id) of every checkpoint this trial inherited or wrote."""
        found = []
        for meta in get_all_artifact_meta(self.trial):
            match = _NAME.match(meta.filename)
            if match:
                found.append((int(match.group(2)), int(match.group(1)), meta.artifact_id))
        return sorted(found, reverse=True)

    def load(self) -> Resume | None:
        """The newest readable checkpoint of a retried trial (None for a fresh trial)."""
        for epoch, number, artifact_id in self._candidates():
            try:
                with self.store.artifact_store.open_reader(artifact_id) as reader:
                    buffer = io.BytesIO(reader.read())
                with np.load(buffer, allow_pickle=False) as arrays:
                    state = json.loads(str(arrays["state"]))
                    pick = lambda prefix, arrays=arrays, state=state: [  # noqa: E731
                        arrays[f"{prefix}{i}"] for i in range(state[f"n_{prefix}"])
                    ]
                    resume = Resume(
                        epoch=epoch,
                        weights=pick("w"),
                        optimizer=pick("o"),
                        best_weights=pick("b") if state["n_b"] else None,
                        state=state,
                        source_trial=number,
                    )
            except (ArtifactNotFound, FileNotFoundError, OSError, KeyError, ValueError) as err:
                _log.info(
                    "trial %d: checkpoint %s of trial %d unreadable (%s)", self.trial.number, artifact_id, number, err
                )
                continue
            self.resumed_from = epoch
            self._current = None
            _log.warning("trial %d resumes trial %d after epoch %d", self.trial.number, number, epoch)
            return resume
        return None

    def save(self, model: keras.Model, epoch: int, state: dict[str, Any], best_weights: list | None) -> None:
        """Upload the state after ``epoch`` (0-based) and drop the previous epoch's file."""
        weights = model.get_weights()
        optimizer = getattr(model, "optimizer", None)
        opt_values = [np.asarray(v) for v in optimizer.variables] if optimizer is not None and optimizer.built else []
        best = list(best_weights) if best_weights is not None else []
        arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(weights)}
        arrays.update({f"o{i}": v for i, v in enumerate(opt_values)})
        arrays.update({f"b{i}": v for i, v in enumerate(best)})
        state = {**state, "n_w": len(weights), "n_o": len(opt_values), "n_b": len(best)}
        arrays["state"] = np.array(json.dumps(state))
        self.store.folder_ready()
        name = f"checkpoint-trial{self.trial.number}-epoch{epoch:04d}.npz"
        try:
            with tempfile.TemporaryDirectory(prefix="stacksearch-ckpt-") as tmp:
                path = os.path.join(tmp, name)
                np.savez(path, **arrays)
                artifact_id = upload_artifact(
                    artifact_store=self.store.artifact_store, file_path=path, study_or_trial=self.trial
                )
        except OSError as err:  # a full disk must not fail the trial: it just cannot resume
            _log.warning("trial %d: could not save the checkpoint of epoch %d: %s", self.trial.number, epoch, err)
            return
        if self._current is not None:
            self._remove(self._current)
        self._current = artifact_id

    def discard(self) -> None:
        """Delete every checkpoint file of this trial and of the trials it retried."""
        for _, _, artifact_id in self._candidates():
            self._remove(artifact_id)
        self._current = None

    def _remove(self, artifact_id: str) -> None:
        try:
            self.store.artifact_store.remove(artifact_id)
        except (ArtifactNotFound, FileNotFoundError, OSError):
            pass


class CheckpointStore:
    """Where the per-epoch checkpoints of running trials live (an Optuna artifact store).

    Example:
        >>> store = CheckpointStore("/tmp/stacksearch-artifacts")
        >>> store.folder.name
        'stacksearch-artifacts'
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        self.artifact_store = FileSystemArtifactStore(self.folder)

    @classmethod
    def for_config(cls, storage_url: str, folder: str | None = None) -> CheckpointStore:
        """``STACKSEARCH_ARTIFACTS`` > ``folder`` (``study.artifacts``) > beside the storage.

        The order is :func:`stacksearch.settings.resolve`'s; ``folder`` is the study file's layer.
        """
        chosen = resolve("artifacts", file=folder)
        return cls(chosen if chosen else default_folder(storage_url))

    def folder_ready(self) -> None:
        """Create the folder on first use."""
        self.folder.mkdir(parents=True, exist_ok=True)

    def for_trial(self, trial: optuna.Trial) -> TrialCheckpoint:
        """The checkpoints of ``trial``."""
        return TrialCheckpoint(self, trial)
