"""Render docker-compose.yml and deploy/k8s/ from the Procfile, so all three list the same processes.

    .venv/bin/python deploy/render.py          # rewrite the files
    .venv/bin/python deploy/render.py --check  # exit 1 if they are out of date

Each Procfile line ``<name>: [VAR=value ...] .venv/bin/rapport-<svc> <process>`` becomes a
compose service and a Kubernetes Deployment running ``rapport-<svc> <process>`` in that
service's image (``services/<dir>/Dockerfile``); every API also gets a Service.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# cli name -> (source folder, HTTP port, image)
SERVICES = {
    "ingest": ("ingest", 8001), "scheduler": ("scheduler", 8002), "outreach": ("outreach", 8003),
    "scoring": ("scoring", 8004), "portal": ("portal-api", 8005),
}
LINE = re.compile(r"^(?P<name>[\w-]+):\s*(?P<env>(?:\w+=\S+\s+)*)\.venv/bin/rapport-(?P<svc>[\w-]+)\s+(?P<proc>[\w-]+)\s*$")
COMMON_ENV = {
    "RAPPORT_KAFKA_BOOTSTRAP": "kafka:9092",
    "RAPPORT_DATABASE_URL": "postgresql://rapport:rapport@postgres:5432/postgres",
    "RAPPORT_DATABASE_NAME": "rapport",
    "RAPPORT_HTTP_HOST": "0.0.0.0",
    "RAPPORT_LOG_JSON": "true",
    "RAPPORT_LOG_LEVEL": "INFO",
}
LINK_SECRET = "${RAPPORT_PORTAL_LINK_SECRET:-dev-portal-link-secret}"
SERVICE_ENV = {
    "ingest": {"RAPPORT_INGEST_ADMIN_TOKEN": "${RAPPORT_ADMIN_TOKEN:-dev-admin-token}"},
    "scheduler": {"RAPPORT_SCHEDULER_ADMIN_TOKEN": "${RAPPORT_ADMIN_TOKEN:-dev-admin-token}"},
    "outreach": {"RAPPORT_PORTAL_LINK_SECRET": LINK_SECRET, "RAPPORT_PORTAL_BASE_URL": "http://localhost:8005",
                 "RAPPORT_OUTREACH_SINK_DIR": "/var/lib/rapport/sink",
                 "RAPPORT_OUTREACH_ADMIN_TOKEN": "${RAPPORT_ADMIN_TOKEN:-dev-admin-token}",
                 "RAPPORT_OUTREACH_INBOUND_PARSE_TOKEN": "${RAPPORT_INBOUND_PARSE_TOKEN:-dev-inbound-parse-token}"},
    "scoring": {"RAPPORT_SCORING_ADMIN_TOKEN": "${RAPPORT_ADMIN_TOKEN:-dev-admin-token}"},
    "portal": {"RAPPORT_PORTAL_LINK_SECRET": LINK_SECRET, "RAPPORT_PORTAL_BASE_URL": "http://localhost:8005",
               "RAPPORT_PORTAL_ADMIN_TOKEN": "${RAPPORT_ADMIN_TOKEN:-dev-admin-token}",
               "RAPPORT_PORTAL_UPLOAD_DIR": "/var/lib/rapport/uploads"},
}
VOLUMES = {"outreach": "sink:/var/lib/rapport/sink", "portal": "uploads:/var/lib/rapport/uploads"}


@dataclass
class Process:
    name: str
    service: str
    process: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return SERVICES[self.service][0]

    @property
    def image(self) -> str:
        return f"rapport/{self.service}:local"

    @property
    def port(self) -> int:
        """The port its health check asks: the API's, or a worker's metrics side port."""
        if self.process == "api":
            return SERVICES[self.service][1]
        return int(next(v for k, v in self.env.items() if k.endswith("_METRICS_PORT")))


def read_procfile(path: Path = ROOT / "Procfile") -> list[Process]:
    out = []
    for raw in path.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = LINE.match(raw.strip())
        if not m:
            raise ValueError(f"Procfile line not understood: {raw!r}")
        env = dict(kv.split("=", 1) for kv in m["env"].split())
        out.append(Process(m["name"], m["svc"], m["proc"], env))
    return out


def environment(p: Process) -> dict[str, str]:
    return {**COMMON_ENV, **SERVICE_ENV.get(p.service, {}), **p.env}


def healthcheck(p: Process) -> dict:
    path = "/healthz" if p.process == "api" else "/metrics"
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{p.port}{path}', timeout=3)"
    return {"test": ["CMD", "python", "-c", probe], "interval": "10s", "timeout": "5s", "retries": 6, "start_period": "20s"}


def build(p: Process) -> dict:
    return {"context": ".", "dockerfile": f"services/{p.folder}/Dockerfile"}


def compose(processes: list[Process]) -> dict:
    services: dict[str, dict] = {"kafka": KAFKA, "postgres": POSTGRES, "provision": {
        "image": "rapport/ingest:local", "build": {"context": ".", "dockerfile": "services/ingest/Dockerfile"},
        "command": ["sh", "-c", "rapport-infra provision && rapport-infra topics"],
        "environment": dict(COMMON_ENV),
        "depends_on": {"postgres": {"condition": "service_healthy"}, "kafka": {"condition": "service_healthy"}},
        "restart": "no",
    }}
    for svc in SERVICES:
        first = next(p for p in processes if p.service == svc)
        services[f"{svc}-migrate"] = {
            "image": first.image, "build": build(first), "command": [f"rapport-{svc}", "migrate"],
            "environment": {**COMMON_ENV, **SERVICE_ENV.get(svc, {})},
            "depends_on": {"provision": {"condition": "service_completed_successfully"}}, "restart": "no",
        }
    for p in processes:
        services[p.name] = _compose_process(p)
    return {"name": "rapport", "services": services,
            "volumes": {"pgdata": {}, "kafkadata": {}, "sink": {}, "uploads": {}}}


def _compose_process(p: Process) -> dict:
    spec = {
        "image": p.image, "build": build(p), "command": [f"rapport-{p.service}", p.process],
        "environment": environment(p), "healthcheck": healthcheck(p), "restart": "unless-stopped",
        "depends_on": {f"{p.service}-migrate": {"condition": "service_completed_successfully"}},
    }
    if p.process == "api":
        spec["ports"] = [f"{p.port}:{p.port}"]
    if p.service in VOLUMES:
        spec["volumes"] = [VOLUMES[p.service]]
    return spec


KAFKA = {
    "image": "apache/kafka:4.1.1",
    "environment": {
        "KAFKA_NODE_ID": "1", "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1", "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false", "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
    },
    "ports": ["19092:9092"],
    "volumes": ["kafkadata:/var/lib/kafka/data"],
    "healthcheck": {"test": ["CMD-SHELL", "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null 2>&1"],
                    "interval": "10s", "timeout": "10s", "retries": 12, "start_period": "20s"},
}
POSTGRES = {
    "image": "postgres:15",
    "environment": {"POSTGRES_USER": "rapport", "POSTGRES_PASSWORD": "rapport", "POSTGRES_DB": "postgres"},
    "ports": ["15432:5432"],
    "volumes": ["pgdata:/var/lib/postgresql/data"],
    "healthcheck": {"test": ["CMD-SHELL", "pg_isready -U rapport -d postgres"], "interval": "5s", "timeout": "5s", "retries": 12},
}


# ---------------------------------------------------------------- Kubernetes

SECRET_KEYS = {"RAPPORT_DATABASE_URL": "database-url", "RAPPORT_PORTAL_LINK_SECRET": "portal-link-secret",
               "RAPPORT_OUTREACH_INBOUND_PARSE_TOKEN": "inbound-parse-token"}
LABELS = {"app.kubernetes.io/part-of": "rapport"}


def _k8s_env(env: dict[str, str]) -> list[dict]:
    out = []
    for name, value in env.items():
        if name in COMMON_ENV and name not in SECRET_KEYS:
            continue  # from the ConfigMap
        key = SECRET_KEYS.get(name) or ("admin-token" if name.endswith("_ADMIN_TOKEN") else None)
        if key:
            out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": "rapport-secrets", "key": key}}})
        else:
            out.append({"name": name, "value": value})
    return out


def _container(name: str, image: str, command: list[str], env: dict[str, str]) -> dict:
    return {"name": name, "image": image, "command": command,
            "envFrom": [{"configMapRef": {"name": "rapport-env"}}], "env": _k8s_env(env)}


def _probe(p: Process) -> dict:
    return {"httpGet": {"path": "/healthz" if p.process == "api" else "/metrics", "port": p.port},
            "periodSeconds": 10, "failureThreshold": 6}


def deployment(p: Process) -> dict:
    labels = {**LABELS, "app.kubernetes.io/name": p.name, "rapport/service": p.service}
    container = _container(p.process, p.image, [f"rapport-{p.service}", p.process], environment(p))
    container["ports"] = [{"containerPort": p.port, "name": "http" if p.process == "api" else "metrics"}]
    container["livenessProbe"] = _probe(p)
    if p.process == "api":
        container["readinessProbe"] = {**_probe(p), "httpGet": {"path": "/readyz", "port": p.port}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": p.name, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": p.name}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def service(p: Process) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": p.service, "labels": LABELS},
            "spec": {"selector": {"app.kubernetes.io/name": p.name},
                     "ports": [{"name": "http", "port": p.port, "targetPort": p.port}]}}


def job(name: str, image: str, command: list[str], env: dict[str, str]) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "labels": LABELS},
            "spec": {"backoffLimit": 6, "template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [_container(name, image, command, env)]}}}}


def k8s(processes: list[Process]) -> dict[str, list[dict]]:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rapport-env", "labels": LABELS},
              "data": {k: v for k, v in COMMON_ENV.items() if k not in SECRET_KEYS}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "rapport-secrets", "labels": LABELS},
              "type": "Opaque", "stringData": {"database-url": COMMON_ENV["RAPPORT_DATABASE_URL"],
                                               "portal-link-secret": "change-me", "admin-token": "change-me",
                                               "inbound-parse-token": "change-me"}}
    jobs = [job("rapport-provision", "rapport/ingest:local", ["sh", "-c", "rapport-infra provision && rapport-infra topics"],
                dict(COMMON_ENV))]
    jobs += [job(f"{svc}-migrate", f"rapport/{svc}:local", [f"rapport-{svc}", "migrate"],
                 {**COMMON_ENV, **SERVICE_ENV.get(svc, {})}) for svc in SERVICES]
    files = {"00-config.yaml": [config, secret], "10-jobs.yaml": jobs}
    for svc in SERVICES:
        mine = [p for p in processes if p.service == svc]
        files[f"{SERVICES[svc][0]}.yaml"] = [deployment(p) for p in mine] + [service(p) for p in mine if p.process == "api"]
    return files


# ---------------------------------------------------------------- files

HEADER = "# Generated by deploy/render.py from the Procfile; edit that script, then run it.\n"


def rendered() -> dict[Path, str]:
    processes = read_procfile()
    files = {ROOT / "docker-compose.yml": HEADER + yaml.safe_dump(compose(processes), sort_keys=False, width=120)}
    for name, docs in k8s(processes).items():
        files[ROOT / "deploy" / "k8s" / name] = HEADER + yaml.safe_dump_all(docs, sort_keys=False, width=120)
    return files


def main(argv: list[str]) -> int:
    stale = [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run .venv/bin/python deploy/render.py)")
        return 1 if stale else 0
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"rendered {len(rendered())} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
