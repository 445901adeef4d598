"""``rapport-portal api|consumer|relay|migrate|magic-link``: the processes of the portal-api service."""
from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import typer
import uvicorn

from rapport_shared.bus.workers import run_relay, serve_metrics
from rapport_shared.db import make_engine
from rapport_shared.migrations import upgrade_head
from rapport_shared.observability import configure_logging

from rapport_portal import bootstrap
from rapport_portal.config import Settings
from rapport_portal.domain.errors import PortalError
from rapport_portal.service_layer import auth

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
cli = typer.Typer(help="Rapport portal-api service.", no_args_is_help=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return settings


@cli.command()
def api() -> None:
    """Serve the HTTP API."""
    settings = _settings()
    # Several workers need an import string (each process builds its own app, engine and pools).
    app = "rapport_portal.bootstrap:app_from_environment" if settings.http_workers > 1 else bootstrap.create_app(settings)
    uvicorn.run(app, factory=settings.http_workers > 1, workers=settings.http_workers, host=settings.http_host,
                port=settings.http_port, log_config=None, access_log=False, loop="uvloop", http="httptools")


@cli.command()
def consumer() -> None:
    """Consume this service's topics until SIGTERM."""
    settings = _settings()
    serve_metrics(settings.metrics_port)
    asyncio.run(bootstrap.run_consumer(settings))


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


@cli.command("magic-link")
def magic_link(
    tenant: str = typer.Option(..., "--tenant", help="tenant id"),
    contact: str = typer.Option(..., "--contact", help="contact id (must be in the read model)"),
) -> None:
    """Mint a sign-in link for one contact (demo and support); prints the URL."""
    settings = _settings()
    try:
        url = asyncio.run(_mint(settings, UUID(tenant), UUID(contact)))
    except (ValueError, PortalError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(url)


async def _mint(settings: Settings, tenant_id: UUID, contact_id: UUID) -> str:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        _, url, _ = await auth.admin_mint_link(bootstrap.build_portal(settings, engine), tenant_id, contact_id)
        return url
    finally:
        await engine.dispose()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
