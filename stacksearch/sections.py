"""The study file's smaller sections: training, tracking, report, confirmation (the rest: :mod:`stacksearch.config`).

Example:
    >>> ConfirmSection().seed_cap, TrainingSection(epochs=5).epochs
    (3, 5)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stacksearch.settings import BATCH_SIZE, EPOCHS, PATIENCE

__all__ = ["Section", "TrainingSection", "TrackingSection", "ReportSection", "ConfirmSection"]


class Section(BaseModel):
    """A part of a study file: unknown keys are refused, and assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TrainingSection(Section):
    """How each trial trains: epochs, batch size, early stopping, Keras backend.

    ``reuse_models`` (default true): on TensorFlow and JAX, a repeated architecture trains on its kept
    compiled model, restarted from the same initial weights, instead of tracing a new one
    (:mod:`stacksearch.reuse`); false builds every model anew.
    """

    epochs: int = Field(EPOCHS, ge=1)
    batch_size: int = Field(BATCH_SIZE, ge=1)
    patience: int | None = Field(PATIENCE, ge=1)
    backend: Literal["auto", "tensorflow", "jax", "torch"] | None = None
    reuse_models: bool = True


class TrackingSection(Section):
    """MLflow tracking; ``tracking: false`` in the file turns it off."""

    enabled: bool = True
    tracking_uri: str | None = None
    experiment: str | None = None
    log_models: Literal["best", "all", "none"] = "best"


class ReportSection(Section):
    """The depth-versus-width report written at the end of a run."""

    enabled: bool = True
    out: str | None = None


class ConfirmSection(Section):
    """The confirmation after the search: the ``top`` depths' best architectures retrained with ``seeds`` seeds.

    ``max_seeds`` above ``seeds`` lets the run add seeds while the answer is undecided and the
    budget allows (:class:`~stacksearch.stats.sequential.SequentialDesign`: up to 3 looks, each
    tested at ``alpha`` / looks); unset, there is one look at ``alpha``, the more powerful choice
    when no seeds would fit anyway. ``margin`` (metric units) replaces the default practical margin
    (:func:`~stacksearch.stats.margin.default_margin`); ``alpha`` is the error rate of the whole call.
    ``confirm: false`` in the file turns the confirmation off.

    Example:
        >>> ConfirmSection(seeds=3, max_seeds=6, margin=0.01).attrs()
        {'top': 3, 'seeds': 3, 'max_seeds': 6, 'alpha': 0.05, 'margin': 0.01}
    """

    enabled: bool = True
    top: int = Field(3, ge=1)
    seeds: int = Field(3, ge=2)
    max_seeds: int | None = Field(None, ge=2)
    margin: float | None = Field(None, gt=0, allow_inf_nan=False)
    alpha: float = Field(0.05, gt=0, lt=0.5)

    @field_validator("margin", "alpha", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        return value

    @model_validator(mode="after")
    def _cap_above_seeds(self) -> ConfirmSection:
        if self.max_seeds is not None and self.max_seeds < self.seeds:
            raise ValueError(f"confirm.max_seeds ({self.max_seeds}) must be at least confirm.seeds ({self.seeds})")
        return self

    @property
    def seed_cap(self) -> int:
        """The most seeds any architecture is retrained with: ``max_seeds``, else ``seeds``."""
        return self.max_seeds if self.max_seeds is not None else self.seeds

    def attrs(self) -> dict[str, Any]:
        """The study's ``confirm`` user attribute: what the run adds seeds by and the report tests with."""
        out: dict[str, Any] = {"top": self.top, "seeds": self.seeds, "max_seeds": self.seed_cap, "alpha": self.alpha}
        if self.margin is not None:
            out["margin"] = self.margin
        return out
