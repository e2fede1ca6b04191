"""Confirmation: retrain the best architecture of each top depth with several seeds, in this process.

``stacksearch run`` confirms by itself, as trials of a sibling study that its workers share
(:mod:`stacksearch.search.confirming`); this is ``stacksearch confirm``, for studies made
earlier or by your own Optuna code.

A depth-versus-width verdict from one seed per configuration can be luck. ``confirm``
retrains each of the ``top`` best depths' best trial with ``seeds`` fresh seeds (same
epochs, batch size and early stopping as the search, no pruning) and stores the scores in
the study user attribute ``confirmation``; the report turns them into mean +- 95%
intervals and Welch tests between depths.

Example:
    >>> import optuna, stacksearch as ss
    >>> study = optuna.load_study(study_name="quickstart", storage="sqlite:///stacksearch.db")  # doctest: +SKIP
    >>> confirm_study(study, top=2, seeds=3)["results"][0]["values"]  # doctest: +SKIP
    [0.0091, 0.0104, 0.0087]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import optuna

from stacksearch.config import SpaceSection
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError, NoCompletedTrialError
from stacksearch.search.confirming import SEED_OFFSET
from stacksearch.search.depths import best_per_depth
from stacksearch.settings import BATCH_SIZE, EPOCHS, PATIENCE
from stacksearch.space import SearchSpace

__all__ = ["confirm_study", "best_per_depth", "SEED_OFFSET"]


def confirm_study(
    study: optuna.Study,
    *,
    top: int = 3,
    seeds: int = 3,
    data: SequenceData | None = None,
    space: SearchSpace | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Retrain the best architecture of the ``top`` best depths with ``seeds`` seeds each.

    ``data`` and ``space`` default to what the study recorded when ``stacksearch run``
    made it; give them for a study made by your own Optuna code. Stores and returns the
    ``confirmation`` user attribute.
    """
    from stacksearch.backend import select_backend
    from stacksearch.objective import StackedLSTMObjective
    from stacksearch.sources import load_data_source

    if top < 1 or seeds < 1:
        raise ConfigError(f"--top {top} and --seeds {seeds} must both be at least 1")
    attrs = study.user_attrs
    if data is None:
        if "data_source" not in attrs:
            raise ConfigError(
                f"study {study.study_name!r} does not record its data; call confirm_study(study, data=...)"
            )
        data = load_data_source(attrs["data_source"])
    if space is None:
        space = SpaceSection.model_validate(attrs.get("space", {})).to_space()
    candidates = best_per_depth(study, top)
    if not candidates:
        raise NoCompletedTrialError(f"study {study.study_name!r} has no completed trial to confirm")
    select_backend(None)
    training = attrs.get("training", {})
    results = []
    for trial in candidates:
        values = []
        for index in range(seeds):
            objective = StackedLSTMObjective(
                data,
                space,
                epochs=training.get("epochs", EPOCHS),
                batch_size=training.get("batch_size", BATCH_SIZE),
                patience=training.get("patience", PATIENCE),
                seed=SEED_OFFSET + index,
                prune=False,
            )
            rerun = cast(optuna.Trial, optuna.trial.FixedTrial(trial.params, number=0))  # Optuna's way to rerun
            value = objective(rerun)
            assert not isinstance(value, tuple)  # one objective: multi_objective is off here
            values.append(float(value))
        result = {
            "depth": trial.user_attrs.get("depth"),
            "widths": trial.user_attrs.get("widths"),
            "trial": trial.number,
            "values": values,
        }
        results.append(result)
        if on_result is not None:
            on_result(result)
    confirmation = {"seeds": seeds, "top": top, "results": results}
    study.set_user_attr("confirmation", confirmation)
    return confirmation
