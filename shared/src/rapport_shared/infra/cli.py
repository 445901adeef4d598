"""``rapport-infra``: provision the database and topics, print service connection settings."""
from __future__ import annotations

import asyncio
import os

import typer

from rapport_shared.infra.naming import SERVICES, schema_of, service_database_url
from rapport_shared.infra.provision import provision_database
from rapport_shared.infra.topics import create_topics

app = typer.Typer(help="Provision Rapport's Postgres database and Kafka topics.", no_args_is_help=True)

ADMIN_URL = os.environ.get("RAPPORT_DATABASE_URL", "postgresql://rapport:rapport@127.0.0.1:15432/postgres")
BOOTSTRAP = os.environ.get("RAPPORT_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DATABASE = os.environ.get("RAPPORT_DATABASE_NAME", "rapport")
PREFIX = os.environ.get("RAPPORT_TOPIC_PREFIX", "")


@app.command()
def provision(admin_url: str = ADMIN_URL, database: str = DATABASE) -> None:
    """Create the database, one role and one schema per service (idempotent)."""
    provision_database(admin_url, database)
    typer.echo(f"database {database}: schemas {', '.join(schema_of(s) for s in SERVICES)} ready")


@app.command()
def topics(bootstrap: str = BOOTSTRAP, prefix: str = PREFIX) -> None:
    """Create every topic in the catalogue, dead-letter topics included (idempotent)."""
    created = asyncio.run(create_topics(bootstrap, prefix))
    typer.echo(f"topics created: {', '.join(created) if created else 'none (all present)'}")


@app.command()
def env(admin_url: str = ADMIN_URL, database: str = DATABASE) -> None:
    """Print each service's database URL as shell exports."""
    for service in SERVICES:
        var = f"RAPPORT_{schema_of(service).upper()}_DATABASE_URL"
        typer.echo(f"export {var}={service_database_url(admin_url, service, database)}")


@app.command()
def schemas(directory: str = "shared/schemas") -> None:
    """Regenerate the committed JSON Schemas from the payload models."""
    from pathlib import Path

    from rapport_shared.contracts.schemas import write

    written = write(Path(directory))
    typer.echo(f"{len(written)} schemas written to {directory}")


def main() -> None:
    app()
