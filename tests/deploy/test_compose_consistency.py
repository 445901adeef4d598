"""docker-compose.yml, deploy/k8s/ and the Procfile agree with the services as they are.

No container runs here; these checks stand in for it: every long-running process of
every service is supervised, built from its own Dockerfile, configured only with
variables its settings class reads, and reachable on the port its settings default to.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices

from rapport_shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"ingest": "rapport_ingest", "scheduler": "rapport_scheduler", "outreach": "rapport_outreach",
            "scoring": "rapport_scoring", "portal": "rapport_portal"}
# Variables rapport-infra reads (shared/src/rapport_shared/infra/cli.py); the provision job may set them.
INFRA_ENV = {"RAPPORT_DATABASE_URL", "RAPPORT_KAFKA_BOOTSTRAP", "RAPPORT_DATABASE_NAME", "RAPPORT_TOPIC_PREFIX"}


def _render():
    spec = importlib.util.spec_from_file_location("rapport_deploy_render", ROOT / "deploy" / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _render()
PROCESSES = render.read_procfile(ROOT / "Procfile")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
K8S = [doc for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
       for doc in yaml.safe_load_all(path.read_text()) if doc]


def settings_class(service: str) -> type[ServiceSettings]:
    return importlib.import_module(f"{PACKAGES[service]}.config").Settings


def env_names(settings: type[ServiceSettings]) -> set[str]:
    """Every environment variable the settings class reads."""
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, info in settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(prefix + name)
    return {n.upper() for n in names}


def long_running_commands(service: str) -> set[str]:
    """The CLI's processes: the API and every command documented to run until SIGTERM."""
    cli = importlib.import_module(f"{PACKAGES[service]}.__main__").cli
    out = set()
    for command in cli.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        if name == "api" or "until SIGTERM" in (command.callback.__doc__ or ""):
            out.add(name)
    return out


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_procfile_runs_exactly_each_services_long_running_processes(service):
    listed = {p.process for p in PROCESSES if p.service == service}
    assert listed == long_running_commands(service)
    assert {"api", "consumer", "relay"} <= listed


def test_procfile_metrics_ports_are_distinct_and_named_for_their_service():
    ports = [p.port for p in PROCESSES]
    assert len(ports) == len(set(ports))
    for p in PROCESSES:
        if p.process != "api":
            assert set(p.env) == {f"RAPPORT_{p.service.upper()}_METRICS_PORT"}
            assert set(p.env) <= env_names(settings_class(p.service))


def test_every_process_is_a_compose_service_built_from_its_own_dockerfile():
    for p in PROCESSES:
        spec = COMPOSE[p.name]
        assert spec["command"] == [f"rapport-{p.service}", p.process]
        dockerfile = ROOT / spec["build"]["dockerfile"]
        assert dockerfile.exists() and dockerfile.parent.parent.name == "services"
        assert f"rapport-{p.service}" in dockerfile.read_text()
        assert spec["depends_on"] == {f"{p.service}-migrate": {"condition": "service_completed_successfully"}}
    for service in PACKAGES:
        assert COMPOSE[f"{service}-migrate"]["command"] == [f"rapport-{service}", "migrate"]
    assert COMPOSE["kafka"]["image"].startswith("apache/kafka:4.")
    assert COMPOSE["postgres"]["image"] == "postgres:15"
    assert "rapport-infra provision" in " ".join(COMPOSE["provision"]["command"])


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_api_ports_and_health_checks_match_the_settings_defaults(service):
    port = settings_class(service).model_fields["http_port"].default
    api = next(p for p in PROCESSES if p.service == service and p.process == "api")
    spec = COMPOSE[api.name]
    assert spec["ports"] == [f"{port}:{port}"]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(spec["healthcheck"]["test"])
    dockerfile = (ROOT / spec["build"]["dockerfile"]).read_text()
    assert f"EXPOSE {port}" in dockerfile


def test_workers_health_checks_ask_their_metrics_port():
    for p in PROCESSES:
        if p.process != "api":
            probe = " ".join(COMPOSE[p.name]["healthcheck"]["test"])
            assert f"127.0.0.1:{p.env[f'RAPPORT_{p.service.upper()}_METRICS_PORT']}/metrics" in probe


def test_compose_environment_is_known_to_each_services_settings():
    for name, spec in COMPOSE.items():
        service = name.removesuffix("-migrate").split("-")[0]
        env = set(spec.get("environment", {}))
        if service in PACKAGES:
            assert env <= env_names(settings_class(service)), (name, env - env_names(settings_class(service)))
        elif name == "provision":
            assert env <= INFRA_ENV | env_names(ServiceSettings)


def test_kubernetes_manifests_cover_every_process_with_known_variables():
    deployments = {d["metadata"]["name"]: d for d in K8S if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in K8S if d["kind"] == "Service"}
    config = next(d for d in K8S if d["kind"] == "ConfigMap")
    for p in PROCESSES:
        container = deployments[p.name]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == [f"rapport-{p.service}", p.process]
        known = env_names(settings_class(p.service))
        assert {e["name"] for e in container["env"]} <= known
        assert set(config["data"]) <= known
        if p.process == "api":
            assert services[p.service]["spec"]["ports"][0]["port"] == settings_class(p.service).model_fields["http_port"].default
    assert len(deployments) == len(PROCESSES)


def test_rendered_files_are_up_to_date():
    stale = [str(path.relative_to(ROOT)) for path, text in render.rendered().items() if path.read_text() != text]
    assert not stale, f"run .venv/bin/python deploy/render.py: {stale}"
