"""``rapport-outreach api|consumer|sender|relay|migrate``: the processes of the outreach service."""
from __future__ import annotations

import asyncio
from pathlib import Path

import typer
import uvicorn
import uvloop

from rapport_shared.bus.workers import run_relay, serve_metrics
from rapport_shared.db import make_engine
from rapport_shared.migrations import upgrade_head
from rapport_shared.observability import configure_logging

from rapport_outreach import bootstrap
from rapport_outreach.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
cli = typer.Typer(help="Rapport outreach service.", no_args_is_help=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return settings


@cli.command()
def api() -> None:
    """Serve the HTTP API."""
    settings = _settings()
    uvicorn.run(bootstrap.create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False)


@cli.command()
def consumer() -> None:
    """Consume this service's topics until SIGTERM."""
    settings = _settings()
    serve_metrics(settings.metrics_port)
    asyncio.run(bootstrap.run_consumer(settings))


@cli.command()
def sender() -> None:
    """Deliver queued messages through the providers until SIGTERM."""
    from rapport_outreach.entrypoints.sender import run_sender

    settings = _settings()
    serve_metrics(settings.metrics_port)
    # uvloop: the sender is bound by per-request event-loop work (keep-alive provider calls).
    uvloop.run(run_sender(settings))


@cli.command()
def relay() -> None:
    """Publish the outbox to Kafka until SIGTERM."""
    settings = _settings()
    serve_metrics(settings.metrics_port)
    asyncio.run(run_relay(settings, make_engine(settings.database_url, pool_size=2)))


@cli.command()
def migrate() -> None:
    """Apply this service's database migrations."""
    settings = _settings()
    upgrade_head(MIGRATIONS, settings.database_url, settings.db_schema)
    typer.echo(f"{settings.db_schema}: migrations applied")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
