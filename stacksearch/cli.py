"""The ``stacksearch`` command: run studies, list studies and benchmarks, write reports.

User errors print one line and exit with code 2 (``--debug`` shows the traceback).
``run`` plans a search and a confirmation inside ``--budget`` and says the plan first
(:mod:`stacksearch.search.phases`); it exits 0 when both are done (the search at ``n_trials``
or its budget) or at ``--timeout`` (seconds from the start of the command, data loading
included, with one process or ``--workers N``) and 130 when it was stopped (Ctrl-C): the
run's stop reason maps to the exit code and last line.

Example:
    $ stacksearch run studies/quickstart.yaml --n-trials 5
    $ stacksearch studies
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from stacksearch.arguments import build_parser
from stacksearch.exceptions import StackSearchError
from stacksearch.listing import format_value, print_best, print_listing
from stacksearch.settings import SETTINGS, resolve

__all__ = ["main", "build_parser"]

console = Console(highlight=False)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
_RUN_EXIT = {"target": 0, "deadline": 0, "stopped": 130}  # StopReason value -> exit code of `run`
_RUN_MESSAGE = {
    "deadline": "[yellow]timeout: {timeout:g} s since the command started; run the same command to continue[/]",
    "stopped": "[yellow]stopped: finished trials are saved; run the same command to continue[/]",
}


def command(name: str) -> Callable:
    """Register the handler of subcommand ``name``."""

    def wrap(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = func
        return func

    return wrap


def _quiet_frameworks() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    warnings.filterwarnings("ignore", category=FutureWarning)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    for name in ("tensorflow", "mlflow", "alembic", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _install_interrupt_handler(stop: threading.Event) -> None:
    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            import optuna

            optuna.logging.set_verbosity(optuna.logging.ERROR)  # no traceback for the failed trial
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        stop.set()
        console.print("[yellow]stopping after the running trial; press Ctrl-C again to stop now[/]")

    signal.signal(signal.SIGINT, handler)


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    """Run or resume a study from a YAML file."""
    started = time.time()  # --timeout and --budget count from here, data loading included, however many workers
    from stacksearch.config import load_config
    from stacksearch.progress import StudyProgress
    from stacksearch.search.loop import trial_counts
    from stacksearch.search.phases import budget_record, plan_run, run_phases, spent_line
    from stacksearch.sources import load_study_data
    from stacksearch.states import FINISHED
    from stacksearch.storage import mask_url

    config = load_config(args.study_file, **_flags(args))
    data = load_study_data(config)
    _print_depths_out(config, data)
    plan = plan_run(config, data, started=started, origin="--budget" if args.budget else "study.budget")
    config = plan.config
    stop = threading.Event()
    _install_interrupt_handler(stop)
    console.print(
        f"study [bold]{config.study_name}[/] on {data.name} ({data.task}, {data.metric}, "
        f"baseline {format_value(data.baseline)}) -> {mask_url(config.storage_url)}"
    )
    for line in plan.lines:
        console.print(line, markup=False)
    target = config.study.trial_target
    progress = StudyProgress(target, data.direction, console=console)
    try:
        with progress:
            result = run_phases(plan, data, callbacks=[progress], stop=stop, on_phase=progress.set_phase)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished trials are saved; run the same command to continue[/]")
        return 130
    study = result.study
    counts = trial_counts(study)
    finished = sum(counts[s] for s in FINISHED)
    print_best(console, study, data.metric)
    of = "" if target is None else f"/{target}"
    console.print(f"trials: {finished}{of} finished ({counts[FINISHED[0]]} complete, {counts[FINISHED[1]]} pruned)")
    console.print(result.note, markup=False)
    if plan.budget is not None:
        record = budget_record(plan, study, started)
        study.set_user_attr("budget", record)  # the report's and verdict.json's budget: planned and spent
        console.print(spent_line(record), markup=False)
    from stacksearch.search.limit import limit_line, record_limit

    limit = record_limit(study, since=started, now=time.time(), workers=config.study.workers)
    console.print(limit_line(limit), markup=False)
    if config.confirm.enabled:  # how the report tests the seeds (also set when the confirmation starts)
        study.set_user_attr("confirm", config.confirm.attrs())
    if study.get_trials(deepcopy=False, states=(FINISHED[0],)):
        from stacksearch.report import answer_line, study_answer

        console.print(f"[bold]answer[/]: {escape(answer_line(study_answer(study)))}", soft_wrap=True)
    console.print(f"storage: {mask_url(config.storage_url)}  study: {config.study_name}")
    if config.tracking.enabled:
        console.print(f"mlflow: {mask_url(config.tracking_uri)} (stacksearch ui to browse)")
    if config.report.enabled:
        _write_report(study, config.report.out, config.tracking_uri if config.tracking.enabled else None)
    if result.reason.value in _RUN_MESSAGE:
        console.print(_RUN_MESSAGE[result.reason.value].format(timeout=config.study.timeout or 0))
    return _RUN_EXIT[result.reason.value]


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings flags of ``args`` by setting name (:data:`stacksearch.settings.SETTINGS`); None where not given.

    A flag without an argument (``--no-tracking``) gives its setting's ``switch`` value when present.
    """
    flags = {}
    for setting in SETTINGS.values():
        if setting.flag is None:
            continue
        given = getattr(args, setting.flag.removeprefix("--").replace("-", "_"))
        if setting.switch is not None:
            given = setting.switch if given else None
        flags[setting.name] = given
    return flags


def _print_depths_out(config: Any, data: Any) -> None:
    """Refuse a space where every trial would be rejected on this data; name the depths that are out.

    Runs before any study is created and before any worker starts.
    """
    from stacksearch.feasible import check_feasible

    sequence_output = data.task == "sequence_labelling"
    out = check_feasible(config.space.to_space(), data.n_features, data.n_outputs, sequence_output=sequence_output)
    for depth, reason in out.items():
        console.print(f"[yellow]depth {depth} is out: {escape(reason)}; its trials will be rejected[/]", soft_wrap=True)


def _write_report(study: Any, out: str | None, tracking_uri: str | None = None) -> None:
    """Write the study's report; attach it to the MLflow parent run when tracking is on."""
    from stacksearch.report import default_out_dir, write_report

    folder = out or default_out_dir(study.study_name)
    try:
        paths = write_report(study, folder)
    except StackSearchError as err:
        console.print(f"[yellow]no report: {err}[/]")
        return
    console.print(f"report: {paths['html']}")
    if tracking_uri is not None:
        import json

        from stacksearch.tracking import MLflowTracker

        tracker = MLflowTracker(tracking_uri=tracking_uri)
        tracker.log_report(study, folder)  # the whole folder: verdict.json goes with it
        tracker.tag_verdict(study, json.loads(paths["verdict"].read_text(encoding="utf-8"))["call"])


@command("report")
def cmd_report(args: argparse.Namespace) -> int:
    """Write the depth-versus-width report of a stored study; with ``--json``, print its verdict.json."""
    from stacksearch.report import report_for

    path = report_for(_storage_url(args), args.study, args.out)
    if args.json:
        sys.stdout.write((path.parent / "verdict.json").read_text(encoding="utf-8"))
        sys.stdout.flush()
        Console(stderr=True, highlight=False).print(f"report: {path}")
        return 0
    console.print(f"report: {path}")
    return 0


@command("confirm")
def cmd_confirm(args: argparse.Namespace) -> int:
    """Retrain the best architecture of the top depths with several seeds; update the report."""
    from stacksearch.confirm import confirm_study
    from stacksearch.report import open_study, report_for

    url = _storage_url(args)
    study = open_study(url, args.study)  # fails early, naming the studies there, if the study is absent

    def show(result: dict) -> None:
        values = ", ".join(format_value(v) for v in result["values"])
        console.print(f"depth {result['depth']} widths {result['widths']} (trial {result['trial']}): {values}")

    confirm_study(study, top=args.top, seeds=args.seeds, on_result=show)
    console.print(f"report: {report_for(url, args.study, args.out)}")
    return 0


def _storage_url(args: argparse.Namespace) -> str:
    from stacksearch.storage import check_url

    return check_url(resolve("storage", flag=args.storage))


@command("studies")
def cmd_studies(args: argparse.Namespace) -> int:
    """List the studies in a storage with trial counts and their best architecture."""
    import optuna
    from optuna.trial import TrialState

    from stacksearch.metrics import best_of
    from stacksearch.storage import mask_url, open_storage

    url = _storage_url(args)
    storage = open_storage(url, heartbeat=False)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    names = {s.study_name for s in summaries}
    retrained = {
        str(s.user_attrs["source_study"]): s for s in summaries if s.user_attrs.get("source_study") in names
    }  # confirmation studies: a column of their search study's row, not rows of their own
    confirmations = {s.study_name for s in retrained.values()}
    rows = []
    for summary in summaries:
        if summary.study_name in confirmations:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        states = Counter(t.state for t in trials)
        sibling = retrained.get(summary.study_name)
        confirmed = "-"
        if sibling is not None:
            confirm = optuna.load_study(study_name=sibling.study_name, storage=storage)
            confirmed = str(len(confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))))
        best_value, arch = "-", "-"
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if complete:
            best = best_of(complete, study.directions[0], key=lambda t: t.values[0])
            assert best is not None
            best_value = format_value(best.values[0])
            attrs = best.user_attrs
            arch = f"depth {attrs.get('depth', '?')} x {attrs.get('widths', '?')} ({attrs.get('n_params', '?')} params)"
        rows.append(
            [
                summary.study_name,
                *(
                    str(states[s])
                    for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
                ),
                confirmed,
                best_value,
                arch,
            ]
        )
    if not summaries:
        console.print(f"no studies in {mask_url(url)}", soft_wrap=True, markup=False)
    else:
        print_listing(
            console,
            f"studies in {mask_url(url)}",
            ["study", "complete", "pruned", "failed", "running", "retrained", "best value", "best architecture"],
            rows,
        )
    return 0


@command("benchmarks")
def cmd_benchmarks(args: argparse.Namespace) -> int:
    """List the built-in benchmarks with shapes, task, metric, baseline and reference."""
    from stacksearch import benchmarks

    rows: list[list[str]] = []
    notes: list[str] = []
    for name in benchmarks.names():
        try:
            data = benchmarks.load(name)
        except StackSearchError as err:
            rows.append([name, "-", "-", f"unavailable: {err}", "-", "-"])
            continue
        shapes = " | ".join("x".join(map(str, s)) for s in data.info()["shapes"].values())
        reference = "-"
        if data.reference:
            notes.append(f"[{len(notes) + 1}] {name}: {data.reference.get('source', '')}")
            reference = f"{format_value(data.reference.get('value'))} [{len(notes)}]"
        rows.append(
            [name, data.task, f"{data.metric} ({data.direction[:3]})", shapes, format_value(data.baseline), reference]
        )
    print_listing(
        console,
        "built-in benchmarks (default arguments; shapes are cases x steps x features)",
        ["name", "task", "metric", "train | val | test", "baseline", "reference"],
        rows,
    )
    for note in notes:
        console.print(note, soft_wrap=True, markup=False)
    return 0


@command("ui")
def cmd_ui(args: argparse.Namespace) -> int:
    """Start the MLflow UI on 127.0.0.1 against a study's tracking URI; print its address."""
    from stacksearch.config import load_config
    from stacksearch.tracking import serve_ui

    if args.tracking_uri is None and args.study_file is not None:
        uri = load_config(args.study_file).tracking_uri  # the environment, else the file, else the default
    else:
        uri = resolve("tracking_uri", flag=args.tracking_uri)
    serve_ui(uri, args.port, echo=lambda text: console.print(text, soft_wrap=True, markup=False))
    return 0


@command("sync-mlflow")
def cmd_sync_mlflow(args: argparse.Namespace) -> int:
    """Backfill MLflow from Optuna storage: one complete run per finished trial, no duplicates."""
    import optuna

    from stacksearch.exceptions import StorageError
    from stacksearch.storage import mask_url, open_storage
    from stacksearch.tracking import MLflowTracker, sync_mlflow

    url = _storage_url(args)
    storage = open_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if args.study not in names:
        raise StorageError(f"no study {args.study!r} in {mask_url(url)}; studies there: {', '.join(names) or 'none'}")
    study = optuna.load_study(study_name=args.study, storage=storage)
    tracker = MLflowTracker(tracking_uri=resolve("tracking_uri", flag=args.tracking_uri), experiment=args.experiment)
    result = sync_mlflow(study, tracker, kill_running=args.kill_running)
    console.print(
        f"mlflow {mask_url(tracker.tracking_uri)}, study {args.study}: {result}", soft_wrap=True, markup=False
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stacksearch`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_frameworks()
    try:
        return COMMANDS[args.command](args)
    except StackSearchError as err:
        if args.debug:
            raise
        print(f"stacksearch: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
