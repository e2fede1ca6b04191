"""The practical margin: how big a difference between depths has to be to matter.

Default: :data:`DEFAULT_FRACTION` (5%) of the gap between the trivial baseline's score and the
best score, so the margin is measured against what the models actually learned over doing
nothing. Why a fraction of that gap: it is in the metric's own units and scale-free across tasks
(an MSE of 0.01 matters on a task whose baseline is 0.02, not on one whose baseline is 100); it
follows the "preserved fraction" idea of non-inferiority margins, which are set as a fraction of
the active treatment's effect over placebo (FDA 2016, *Non-Inferiority Clinical Trials to
Establish Effectiveness*). Why 5%: a user choosing a stacked LSTM would not pay for a deeper
model to gain less than a twentieth of the improvement over the trivial predictor, while a
margin that small is still several seed-to-seed spreads wide on well-trained models, so a few
seeds can show equivalence when depths really tie. A study file can set its own margin.

When the baseline is unknown, not finite, or not worse than the best score (nothing was
learned), the fallback is the same fraction of ``|best|``, and :attr:`Margin.rule` says so.

Example:
    >>> m = default_margin(baseline=1.0, best=0.2)
    >>> round(m.value, 4), m.rule
    (0.04, '5% of the gap between the trivial baseline 1 and the best score 0.2')
    >>> default_margin(None, 0.2).rule
    'no trivial baseline is known: 5% of the best score 0.2'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from stacksearch.exceptions import ConfigError

__all__ = ["Margin", "default_margin", "check_margin", "check_alpha", "check_looks", "DEFAULT_FRACTION"]

DEFAULT_FRACTION = 0.05


@dataclass(frozen=True)
class Margin:
    """A practical margin in metric units and the sentence saying how it was set.

    Example:
        >>> Margin(0.02, "set in the study file").value
        0.02
    """

    value: float
    rule: str


def _text(value: float) -> str:
    return f"{value:.4g}"


def default_margin(
    baseline: float | None, best: float, fraction: float = DEFAULT_FRACTION, *, direction: str = "minimize"
) -> Margin:
    """``fraction`` of the gap from the trivial ``baseline`` to the ``best`` score (see the module docstring).

    Example:
        >>> default_margin(0.5, 0.9, direction="maximize").value  # accuracy: 0.05 x 0.4
        0.02
        >>> default_margin(0.1, 0.2).rule  # the baseline beats the best: nothing was learned
        'the trivial baseline 0.1 is not worse than the best score 0.2: 5% of the best score'
    """
    if not (math.isfinite(fraction) and 0 < fraction < 1):
        raise ConfigError(f"margin fraction {fraction!r} must be a number between 0 and 1 (e.g. 0.05 for 5%)")
    if not math.isfinite(best):
        raise ValueError(f"the best score {best!r} is not finite")
    percent = f"{fraction * 100:g}%"
    sign = 1.0 if str(getattr(direction, "name", direction)).lower() == "minimize" else -1.0
    if baseline is not None and math.isfinite(baseline) and sign * (baseline - best) > 0:
        value = round(fraction * abs(baseline - best), 15)
        return Margin(
            value,
            f"{percent} of the gap between the trivial baseline {_text(baseline)} and the best score {_text(best)}",
        )
    if baseline is None or not math.isfinite(baseline):
        why, of = "no trivial baseline is known", f"the best score {_text(best)}"
    else:
        why, of = (
            f"the trivial baseline {_text(baseline)} is not worse than the best score {_text(best)}",
            "the best score",
        )
    if best == 0:
        return Margin(0.0, f"{why} and the best score is 0: margin 0, so only a winner can be called, not equivalence")
    return Margin(round(fraction * abs(best), 15), f"{why}: {percent} of {of}")


def check_margin(margin: float, where: str = "margin") -> float:
    """``margin`` as a float, or :class:`ConfigError` naming ``where`` unless it is finite and >= 0.

    Example:
        >>> check_margin(0.01)
        0.01
    """
    if isinstance(margin, bool) or not isinstance(margin, Real) or not math.isfinite(margin) or margin < 0:
        raise ConfigError(f"{where}: {margin!r} must be a finite number >= 0 (the practical margin, in metric units)")
    return float(margin)


def check_alpha(alpha: float, where: str = "alpha") -> float:
    """``alpha`` as a float, or :class:`ConfigError` naming ``where`` unless 0 < alpha < 0.5.

    Example:
        >>> check_alpha(0.05)
        0.05
    """
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 0.5:
        raise ConfigError(f"{where}: {alpha!r} must be a number between 0 and 0.5 (e.g. 0.05)")
    return float(alpha)


def check_looks(looks: object) -> int:
    """``looks`` if it is a whole number >= 1 (the looks of a sequential design), else a ConfigError.

    Example:
        >>> check_looks(3)
        3
    """
    if isinstance(looks, bool) or not isinstance(looks, int) or looks < 1:
        raise ConfigError(f"looks: {looks!r} must be a whole number >= 1 (the looks of the sequential design)")
    return looks
