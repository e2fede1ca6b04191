"""The ``stacksearch`` command's arguments: every subcommand and its flags.

Example:
    >>> build_parser().parse_args(["run", "s.yaml", "--workers", "4"]).workers
    4
"""

from __future__ import annotations

import argparse

from stacksearch import __version__
from stacksearch.settings import SETTINGS

__all__ = ["build_parser"]


def _default(name: str, *, file: bool = False) -> str:
    """Where a setting comes from without its flag, for ``--help``: its variable, the study file's key, the default."""
    setting = SETTINGS[name]
    layers = [setting.env] if setting.env else []
    return ", else ".join([*layers, *([setting.key] if file else []), str(setting.default)])


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``stacksearch`` command."""
    parser = argparse.ArgumentParser(prog="stacksearch", description="How deep and how wide should a stacked LSTM be?")
    parser.add_argument("--version", action="version", version=f"stacksearch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run or resume a study from a YAML study file")
    run.add_argument("study_file", metavar="STUDY.yaml")
    run.add_argument("--n-trials", type=int, help="target number of finished trials for the study")
    run.add_argument(
        "--timeout",
        type=float,
        help="start no trial after this many seconds from the start of the command (data loading included)",
    )
    run.add_argument(
        "--budget",
        help="the whole run's budget, search and confirmation: a duration (20m, 1h30m, 90s) or epochs "
        "('600 epochs'), from the start of the command (default: study.budget, none)",
    )
    run.add_argument("--storage", help=f"Optuna storage URL (default: {_default('storage', file=True)})")
    run.add_argument("--study-name", help="study name (default: from the file)")
    run.add_argument(
        "--backend",
        choices=("auto", "tensorflow", "jax", "torch"),
        help=f"Keras backend (default: {_default('backend', file=True)}: TensorFlow on CPU, JAX on a GPU; "
        "docs/performance.md)",
    )
    run.add_argument("--seed", type=int, help="sampler and training seed")
    run.add_argument("--tracking-uri", help=f"MLflow tracking URI (default: {_default('tracking_uri', file=True)})")
    run.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")
    run.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    run.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="worker processes on this machine sharing the study (default: study.workers, 1)",
    )

    studies = sub.add_parser("studies", help="list the studies in a storage")
    studies.add_argument("--storage", help=f"Optuna storage URL (default: {_default('storage')})")

    sub.add_parser("benchmarks", help="list the built-in benchmarks")

    report = sub.add_parser("report", help="write the depth-versus-width report of a study")
    report.add_argument("study", metavar="STUDY", help="study name")
    report.add_argument("--storage", help=f"Optuna storage URL (default: {_default('storage')})")
    report.add_argument("--out", help="output folder (default reports/STUDY/)")
    report.add_argument(
        "--json", action="store_true", help="print the verdict (verdict.json) on stdout and nothing else there"
    )

    confirm = sub.add_parser("confirm", help="retrain the best architecture of each top depth with several seeds")
    confirm.add_argument("study", metavar="STUDY", help="study name")
    confirm.add_argument("--top", type=int, default=3, help="how many depths to confirm (best first)")
    confirm.add_argument("--seeds", type=int, default=3, help="seeds per architecture")
    confirm.add_argument("--storage", help=f"Optuna storage URL (default: {_default('storage')})")
    confirm.add_argument("--out", help="report folder (default reports/STUDY/)")

    ui = sub.add_parser("ui", help="start the MLflow UI on 127.0.0.1 and print its address")
    ui.add_argument("study_file", metavar="STUDY.yaml", nargs="?", help="use this study file's tracking URI")
    ui.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    ui.add_argument("--tracking-uri", help=f"MLflow tracking URI (default: {_default('tracking_uri')})")

    sync = sub.add_parser("sync-mlflow", help="log to MLflow the trials whose runs are missing or stale")
    sync.add_argument("study", metavar="STUDY", help="study name")
    sync.add_argument("--storage", help=f"Optuna storage URL (default: {_default('storage')})")
    sync.add_argument("--tracking-uri", help=f"MLflow tracking URI (default: {_default('tracking_uri')})")
    sync.add_argument("--experiment", help="MLflow experiment (default: the study name)")
    sync.add_argument(
        "--kill-running",
        action="store_true",
        help="end as KILLED the runs of trials still RUNNING (when no worker runs any more)",
    )
    return parser
