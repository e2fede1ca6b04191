"""The statistics of the answer: Welch tests, the practical margin, the three-way calls, the sequential design.

Pure functions of scores (numpy and scipy only): the report reads them to write the verdict and
the search reads them to decide whether to add seeds (:mod:`stacksearch.stats.sequential`).

Example:
    >>> from stacksearch.stats import depth_answer
    >>> depth_answer({1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, 0.22]}, "minimize", 0.02).call
    'depth_wins'
"""

from stacksearch.stats.answer import ALPHA, Answer, depth_answer
from stacksearch.stats.margin import Margin, default_margin
from stacksearch.stats.sequential import SequentialDesign, design_for, looks_for, more_seeds_needed
from stacksearch.stats.width_answer import WidthAnswer, width_answer

__all__ = [
    "ALPHA",
    "Answer",
    "depth_answer",
    "Margin",
    "default_margin",
    "SequentialDesign",
    "design_for",
    "looks_for",
    "more_seeds_needed",
    "WidthAnswer",
    "width_answer",
]
