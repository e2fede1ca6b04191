"""docker/: no Docker engine runs here, so check the files themselves.

compose.yaml parses; every service command is a valid invocation of stacksearch (its own
argparse parser), ``mlflow server`` (MLflow's click command) or optuna-dashboard (its
``--help``, where installed); environment, volumes, ports and images fit together.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stacksearch.cli import build_parser
from stacksearch.config import load_config
from stacksearch.storage import check_url, mask_url

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SERVICES = {"postgres", "mlflow", "worker", "dashboard"}
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
PASSWORD = "compose-secret"


def interpolate(text: str) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` with a test password."""

    def value(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if name == "POSTGRES_PASSWORD":
            return PASSWORD
        assert kind == "-", f"${{{name}}} has no default: compose would need it set"
        return rest

    return _VAR.sub(value, text)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(interpolate((DOCKER / "compose.yaml").read_text(encoding="utf-8")))


def _command(service: dict) -> list[str]:
    command = service["command"]
    assert isinstance(command, list), "use the exec form (a list), no shell"
    return [str(part) for part in command]


def test_compose_has_the_services_and_declares_its_volumes(compose):
    services = compose["services"]
    assert SERVICES <= set(services)
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert used <= set(compose["volumes"])
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (DOCKER / build["context"] / build["dockerfile"]).is_file(), name
        assert "image" in service, name
    images = {s["image"] for s in services.values() if "build" in s}
    for name, service in services.items():  # services without a build use an image built here
        if "build" not in service and not service["image"].startswith("postgres:"):
            assert service["image"] in images, name
    assert "deploy" not in services["worker"] or "replicas" not in services["worker"]["deploy"]  # --scale works


def test_database_and_tracking_server_listen_only_on_the_compose_network(compose):
    services = compose["services"]
    assert "ports" not in services["postgres"]
    for name in ("mlflow", "dashboard"):
        for port in services[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"


@pytest.mark.parametrize("name", ["worker", "worker-gpu"])
def test_worker_command_is_a_valid_stacksearch_run(compose, name):
    service = compose["services"][name]
    command = _command(service)
    assert command[0] == "stacksearch"
    args = build_parser().parse_args(command[1:])  # SystemExit on an unknown flag
    assert args.command == "run"
    study = ROOT / "studies" / Path(args.study_file).relative_to("/studies")
    config = load_config(study, env=service["environment"])
    assert config.storage_url.startswith("postgresql+psycopg://stacksearch:")
    assert "@postgres:5432/optuna" in check_url(config.storage_url)
    assert PASSWORD not in mask_url(config.storage_url)
    assert config.tracking_uri == "http://mlflow:5000"
    assert service["environment"]["STACKSEARCH_ARTIFACTS"].startswith("/artifacts/")
    assert service["environment"]["STACKSEARCH_WORKER"] == "auto"  # replicas must not sample alike
    assert any(v.startswith("artifacts:/artifacts") for v in service["volumes"])  # shared: retries resume
    assert PASSWORD not in " ".join(command)


def test_mlflow_command_is_a_valid_mlflow_server_on_postgres(compose):
    import click
    from mlflow.cli import cli

    service = compose["services"]["mlflow"]
    command = _command(service)
    assert command[:2] == ["mlflow", "server"]
    try:
        context = cli.commands["server"].make_context("server", command[2:])
    except click.UsageError as err:
        pytest.fail(f"mlflow server rejects {command[2:]}: {err}")
    assert context.params["host"] == "0.0.0.0" and context.params["port"] == 5000
    assert context.params["serve_artifacts"] and context.params["artifacts_destination"] == "/mlartifacts"
    assert "mlflow:5000" in context.params["allowed_hosts"].split(",")
    backend = service["environment"]["MLFLOW_BACKEND_STORE_URI"]  # read by mlflow server (envvar)
    assert backend.startswith("postgresql+psycopg://") and backend.endswith("@postgres:5432/mlflow")
    assert PASSWORD not in " ".join(command)
    assert any(v.startswith("mlartifacts:/mlartifacts") for v in service["volumes"])
    assert "CREATE DATABASE mlflow" in (DOCKER / "initdb" / "10-mlflow.sql").read_text()
    health = " ".join(service["healthcheck"]["test"])
    assert "5000/health" in health


def test_dashboard_command_is_optuna_dashboard_on_the_study_storage(compose):
    command = _command(compose["services"]["dashboard"])
    assert command[0] == "optuna-dashboard"
    assert check_url(command[1]).endswith("@postgres:5432/optuna")
    flags = [part for part in command[2:] if part.startswith("--")]
    assert set(flags) <= {"--host", "--port", "--artifact-dir", "--server", "--storage-class", "--quiet"}
    for dockerfile in ("Dockerfile", "Dockerfile.gpu"):  # a release newer than 0.20, for Optuna 5
        assert '"optuna-dashboard>=0.21,<1"' in (DOCKER / dockerfile).read_text()
    executable = shutil.which("optuna-dashboard")
    if executable is None:
        pytest.skip("optional: optuna-dashboard is not installed here; the flags were checked against 0.21")
    help_text = subprocess.run([executable, "--help"], capture_output=True, text=True, check=True).stdout
    for flag in flags:
        assert flag in help_text


def test_dockerfiles_install_the_package_and_pick_their_backend():
    cpu = (DOCKER / "Dockerfile").read_text()
    gpu = (DOCKER / "Dockerfile.gpu").read_text()
    for text in (cpu, gpu):
        assert re.search(r"^FROM python:3\.1[1-3]", text, re.M)
        assert 'pip install ".[${EXTRAS}]"' in text and "postgres" in text
        assert "COPY stacksearch ./stacksearch" in text and "USER stacksearch" in text
        for path in re.findall(r"^COPY (\S+)", text, re.M):
            assert (ROOT / path).exists(), path
    assert "KERAS_BACKEND=tensorflow" in cpu
    assert "KERAS_BACKEND=jax" in gpu and '"jax[cuda12]' in gpu
