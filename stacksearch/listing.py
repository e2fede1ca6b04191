"""What the command line prints beyond progress: listings that never cut a name, and the best trial.

Example:
    >>> from rich.console import Console
    >>> print_listing(Console(width=200), "benchmarks", ["name", "task"], [["mackey_glass", "regression"]])
    benchmarks
    name          task
    mackey_glass  regression
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

__all__ = ["print_listing", "print_best", "format_value"]


def format_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_best(console: Console, study: Any, metric: str) -> None:
    """Print the study's best trial (the first objective's, on a Pareto front): architecture and scores."""
    from optuna.trial import TrialState

    from stacksearch.metrics import best_of

    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if not complete:
        console.print("[yellow]no trial completed yet[/]")
        return
    if len(study.directions) > 1:
        front = study.best_trials
        console.print(f"Pareto front ({metric} vs parameters): {len(front)} trials")
        best = best_of(front, study.directions[0], key=lambda t: t.values[0])
    else:
        best = study.best_trial
    assert best is not None  # the study has a completed trial
    attrs = best.user_attrs
    test_key = f"test_{metric}"
    test = f", test {metric} {format_value(attrs[test_key])}" if test_key in attrs else ""
    console.print(
        f"[bold green]best[/]: trial {best.number}: depth {attrs.get('depth')} widths {attrs.get('widths')} "
        f"({attrs.get('n_params')} parameters), validation {metric} {format_value(best.values[0])}{test}, "
        f"learning rate {best.params.get('learning_rate', float('nan')):.3g}"
    )


def print_listing(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a listing whose first column holds names a user types: never cut, never wrapped.

    On a terminal wide enough for every cell unwrapped, a table. On a narrower terminal,
    one block per row: the name on its own line, the other columns below it, wrapped and
    indented. Anywhere else (a pipe, a file, a script), one line per row with aligned
    columns and no width limit, so ``grep`` finds whole rows. Cells are text, never markup.
    """
    if not console.is_terminal:
        _print_lines(console, title, headers, rows)
    elif _table_width(headers, rows) <= console.width:
        table = Table(title=Text(title))
        table.add_column(Text(headers[0]), no_wrap=True)
        for header in headers[1:]:
            table.add_column(Text(header))
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    else:
        _print_blocks(console, title, headers, rows)


def _table_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Columns the bordered table needs to show every cell on one line."""
    widths = [max(cell_len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    return sum(widths) + 3 * len(widths) + 1  # one space either side of each cell, a border between


def _print_lines(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(cell_len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    console.print(title, soft_wrap=True, markup=False, highlight=False)
    for row in (headers, *rows):
        cells = [str(c) + " " * (w - cell_len(str(c))) for c, w in zip(row, widths)]
        console.print("  ".join(cells).rstrip(), soft_wrap=True, markup=False, highlight=False)


def _print_blocks(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    console.print(Text(title, style="bold"))
    for row in rows:
        console.print(Text(str(row[0]), style="bold"), soft_wrap=True)
        lines: list[str] = []
        for field in (f"{header}: {cell}" for header, cell in zip(headers[1:], row[1:])):
            if lines and cell_len(f"{lines[-1]}; {field}") <= console.width - 2:
                lines[-1] = f"{lines[-1]}; {field}"  # fields side by side while they fit, never split
            else:
                lines.append(field)
        for line in lines:
            console.print(Padding(Text(line), (0, 0, 0, 2), expand=False))  # wider than the screen: wraps, indented
