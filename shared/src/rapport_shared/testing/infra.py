"""Reach (or start) the project's Kafka and Postgres and carve out an isolated slice for one test run."""
from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rapport_shared.infra.naming import SERVICES, schema_of, service_database_url
from rapport_shared.infra.provision import drop_database, provision_database
from rapport_shared.infra.topics import create_topics, delete_topics
from rapport_shared.runtime import check_kafka

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_ADMIN_URL = "postgresql://rapport:rapport@127.0.0.1:15432/postgres"


@dataclass
class TestInfra:
    bootstrap: str
    admin_url: str
    database: str
    topic_prefix: str
    repo_root: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def database_url(self, service: str) -> str:
        return service_database_url(self.admin_url, service, self.database)

    def topic(self, logical: str) -> str:
        return f"{self.topic_prefix}{logical}"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a service process started by a test against this slice."""
        env = dict(os.environ)
        env.update({
            "RAPPORT_KAFKA_BOOTSTRAP": self.bootstrap,
            "RAPPORT_DATABASE_URL": self.admin_url,
            "RAPPORT_DATABASE_NAME": self.database,
            "RAPPORT_TOPIC_PREFIX": self.topic_prefix,
            "RAPPORT_LOG_JSON": "true",
        })
        env.update(self.extra_env)
        env.update(extra)
        return env

    def settings_overrides(self, service: str) -> dict[str, str]:
        return {
            "kafka_bootstrap": self.bootstrap,
            "topic_prefix": self.topic_prefix,
            "admin_database_url": self.admin_url,
            "database_name": self.database,
            "database_url": self.database_url(service),
        }


def find_repo_root(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / ".importlinter").exists():
            return candidate
    raise RuntimeError(f"no repository root (.importlinter) above {start}")


def _postgres_ready(admin_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _kafka_ready(bootstrap: str) -> bool:
    try:
        asyncio.run(asyncio.wait_for(check_kafka(bootstrap), 10))
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False


def ensure_running(repo_root: Path) -> tuple[str, str]:
    """Use the infrastructure the environment points at, or start the project's own."""
    bootstrap = os.environ.get("RAPPORT_KAFKA_BOOTSTRAP", DEFAULT_BOOTSTRAP)
    admin_url = os.environ.get("RAPPORT_DATABASE_URL", DEFAULT_ADMIN_URL)
    if not (_postgres_ready(admin_url) and _kafka_ready(bootstrap)):
        subprocess.run(["bash", str(repo_root / "scripts" / "infra.sh"), "up"], check=True, cwd=repo_root)
    return bootstrap, admin_url


def create_slice(repo_root: Path) -> TestInfra:
    bootstrap, admin_url = ensure_running(repo_root)
    token = uuid.uuid4().hex[:10]
    infra = TestInfra(bootstrap, admin_url, f"rt_{token}", f"rt{token}.", repo_root)
    provision_database(admin_url, infra.database, SERVICES)
    asyncio.run(create_topics(bootstrap, infra.topic_prefix))
    return infra


def destroy_slice(infra: TestInfra) -> None:
    if os.environ.get("RAPPORT_KEEP_TEST_DATA"):
        return
    drop_database(infra.admin_url, infra.database)
    try:
        asyncio.run(delete_topics(infra.bootstrap, infra.topic_prefix))
    except Exception:  # noqa: BLE001 - leftover topics of a test run are harmless
        pass


__all__ = ["TestInfra", "create_slice", "destroy_slice", "find_repo_root", "schema_of"]
