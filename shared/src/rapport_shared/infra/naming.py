"""How services map to schemas, roles and connection URLs."""
from __future__ import annotations

import os
from urllib.parse import quote, urlsplit

SERVICES: tuple[str, ...] = ("ingest", "scheduler", "outreach", "scoring", "portal-api")


def schema_of(service: str) -> str:
    return "portal" if service == "portal-api" else service.replace("-", "_")


def role_of(service: str) -> str:
    return f"rapport_{schema_of(service)}"


def password_of(service: str) -> str:
    """Development passwords unless ``RAPPORT_<SCHEMA>_DB_PASSWORD`` is set."""
    return os.environ.get(f"RAPPORT_{schema_of(service).upper()}_DB_PASSWORD", f"{role_of(service)}-dev")


def service_database_url(admin_url: str, service: str, database: str) -> str:
    """The asyncpg URL a service connects with: its own role, its own database."""
    parts = urlsplit(admin_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 5432
    return f"postgresql+asyncpg://{role_of(service)}:{quote(password_of(service))}@{host}:{port}/{database}"


def database_url_with_name(admin_url: str, database: str) -> str:
    parts = urlsplit(admin_url)
    return parts._replace(path=f"/{database}").geturl()
