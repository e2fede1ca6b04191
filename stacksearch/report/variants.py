"""The report per stack variant: like compared with like where a study searched several variants.

A variant is a trial's ``bidirectional`` / ``residual`` pair
(:attr:`~stacksearch.report.trials.TrialRecord.variant`). With two or more variants among the
study's trials, :func:`variant_tables` builds the depth x width table and the iso-parameter bands
once per variant, from that variant's trials only, and :func:`variant_call` says whether the variant
changes the depth answer at matched parameter counts:

- a variant's best depth is the depth that wins the most factor-2 bands among that variant's trials
  (:func:`~stacksearch.report.iso.band_winners`); a tie for the most bands, or no band holding two
  depths, leaves the variant without a best depth;
- the call is ``"changes"`` when two variants with a best depth have different ones, ``"same"`` when
  every variant has one and they agree, and ``"unknown"`` otherwise (fewer than two variants with a
  best depth, or agreeing ones beside a variant without one).

With one variant both are empty (``()`` and None) and the report is what it was before variants.

Example:
    >>> import optuna
    >>> study = optuna.create_study()
    >>> for residual, depth, n_params, value in [
    ...     (False, 1, 5000, 0.2), (False, 3, 6000, 0.3), (True, 1, 5000, 0.3), (True, 3, 6000, 0.2)]:
    ...     study.add_trial(optuna.trial.create_trial(value=value, user_attrs={
    ...         "depth": depth, "n_params": n_params, "residual": residual}))
    >>> call = variant_call(variant_tables(study))
    >>> call.call, call.best
    ('changes', {'plain': 1, 'residual': 3})
    >>> call.sentence[:79]
    'At matched parameter counts the best depth is 1 for plain and 3 for residual: t'
    >>> call.sentence.endswith("the variant changes the depth answer.")
    True
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from stacksearch.report.iso import BandWinner, IsoBandRow, band_winners, iso_param_table
from stacksearch.report.tables import DepthWidthRow, depth_width_table
from stacksearch.report.trials import PLAIN, StudyData, StudyLike, as_data

__all__ = [
    "VARIANT_ORDER",
    "VariantTables",
    "VariantCall",
    "variants_of",
    "of_variant",
    "variant_tables",
    "variant_call",
]

VARIANT_ORDER = (PLAIN, "bidirectional", "residual", "bidirectional+residual")


@dataclass(frozen=True)
class VariantTables:
    """One variant's depth x width rows, iso-parameter band rows and band winners."""

    variant: str
    depth_width: list[DepthWidthRow]
    bands: list[IsoBandRow]
    band_winners: list[BandWinner]


@dataclass(frozen=True)
class VariantCall:
    """Whether the variant changes the depth answer at matched parameter counts (see the module doc).

    ``call`` is ``"changes"``, ``"same"`` or ``"unknown"``; ``best`` maps each variant with a best
    depth to it; ``tied`` each variant tied for the most bands to the tied depths; ``sentence`` says it.
    """

    call: str
    best: dict[str, int]
    tied: dict[str, tuple[int, ...]]
    variants: tuple[str, ...]
    sentence: str

    @property
    def changes(self) -> bool | None:
        """True when the variant changes the answer, False when it does not, None when it cannot be told."""
        return {"changes": True, "same": False}.get(self.call)


def variants_of(study: StudyLike) -> tuple[str, ...]:
    """The variants among the study's trials, plain first (the order of :data:`VARIANT_ORDER`).

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> study.add_trial(optuna.trial.create_trial(value=0.1, user_attrs={"bidirectional": True}))
        >>> variants_of(study)
        ('bidirectional',)
    """
    seen = {r.variant for r in as_data(study).trials}
    return tuple(sorted(seen, key=lambda v: (VARIANT_ORDER.index(v) if v in VARIANT_ORDER else len(VARIANT_ORDER), v)))


def of_variant(study: StudyLike, variant: str) -> StudyData:
    """The study's data with only the trials of ``variant``."""
    data = as_data(study)
    return dataclasses.replace(data, trials=tuple(r for r in data.trials if r.variant == variant))


def variant_tables(study: StudyLike) -> tuple[VariantTables, ...]:
    """Per variant, its depth x width and band tables; ``()`` when the study holds one variant."""
    data = as_data(study)
    names = variants_of(data)
    if len(names) < 2:
        return ()
    tables = []
    for name in names:
        subset = of_variant(data, name)
        bands = iso_param_table(subset)
        tables.append(VariantTables(name, depth_width_table(subset), bands, band_winners(subset, bands=bands)))
    return tuple(tables)


def variant_call(tables: Sequence[VariantTables]) -> VariantCall | None:
    """Whether the variant changes the depth answer, from :func:`variant_tables`; None with one variant."""
    if len(tables) < 2:
        return None
    best: dict[str, int] = {}
    tied: dict[str, tuple[int, ...]] = {}
    for t in tables:
        wins = Counter(w.depth for w in t.band_winners)
        if not wins:
            continue
        most = max(wins.values())
        top = tuple(sorted(d for d, n in wins.items() if n == most))
        if len(top) == 1:
            best[t.variant] = top[0]
        else:
            tied[t.variant] = top
    names = tuple(t.variant for t in tables)
    if len(set(best.values())) > 1:
        call = "changes"
    elif len(best) == len(names):
        call = "same"
    else:
        call = "unknown"
    return VariantCall(call, best, tied, names, _sentence(call, best, tied, names))


def _sentence(call: str, best: dict[str, int], tied: dict[str, tuple[int, ...]], names: tuple[str, ...]) -> str:
    parts = [f"{best[v]} for {v}" for v in names if v in best]
    lead = (
        f"At matched parameter counts the best depth is {_joined(parts)}"
        if parts
        else "At matched parameter counts no variant has a best depth"
    )
    if call == "changes":
        text = f"{lead}: the variant changes the depth answer."
    elif call == "same":
        text = f"{lead}: the variant does not change the depth answer."
    else:
        text = f"{lead}: cannot tell whether the variant changes the depth answer."
    others = [f"{v}: depths {_joined([str(d) for d in tied[v]])} tie for the most bands" for v in names if v in tied]
    others += [f"{v}: no band holds two depths" for v in names if v not in best and v not in tied]
    if others:
        text += f" ({'; '.join(others)}.)"
    return text


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
