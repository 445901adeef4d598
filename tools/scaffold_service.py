"""Lay down the boilerplate every service shares, for a new service (never overwrites a file).

Usage: python tools/scaffold_service.py <dir> <package> <schema> <http port> <metrics port>
"""
import sys
from pathlib import Path

SERVICE, PKG, SCHEMA, PORT, METRICS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
root = Path("services") / SERVICE
src = root / "src" / PKG
TITLE = SERVICE.replace("-", " ").title()


def put(rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text.lstrip("\n"))


put(f"src/{PKG}/__init__.py", f'"""Rapport {SERVICE} service."""\n')
for sub in ("domain", "service_layer", "adapters", "entrypoints", "entrypoints/api"):
    put(f"src/{PKG}/{sub}/__init__.py", "")
put(f"src/{PKG}/config.py", f'''
"""{TITLE} settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_{SCHEMA.upper()}_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("{SCHEMA}")

    service_name: str = "{SERVICE}"
    db_schema: str = "{SCHEMA}"
    http_port: int = {PORT}
''')
put(f"src/{PKG}/adapters/orm.py", f'''
"""Tables of the ``{SCHEMA}`` schema (all SQL of this service lives in adapters/)."""
from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("{SCHEMA}")
outbox, inbox = add_bus_tables(metadata)
''')
put("migrations/env.py", f'''
from rapport_shared.migrations import run_env

from {PKG}.adapters.orm import metadata

run_env(metadata)
''')
put("migrations/script.py.mako", '''
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
''')
put("alembic.ini", f'''
# Migrations run through `rapport-{SCHEMA if SCHEMA != "portal" else "portal"} migrate`; this file lets `alembic` be used by hand:
#   RAPPORT_{SCHEMA.upper()}_DATABASE_URL=... alembic -c services/{SERVICE}/alembic.ini revision --autogenerate -m "..."
[alembic]
script_location = %(here)s/migrations
''')
put("Dockerfile", f'''
# Build from the repository root: docker build -f services/{SERVICE}/Dockerfile .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY shared ./shared
COPY services ./services
COPY tools ./tools
RUN uv sync --frozen --no-dev --package rapport-{SCHEMA if SCHEMA != "portal" else "portal"}
ENV PATH=/opt/venv/bin:$PATH RAPPORT_HTTP_HOST=0.0.0.0
EXPOSE {PORT}
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}/healthz')"
CMD ["rapport-{SCHEMA if SCHEMA != "portal" else "portal"}", "api"]
''')

CLI = "rapport-" + ("portal" if SCHEMA == "portal" else SCHEMA)
put(f"src/{PKG}/__main__.py", f'''
"""``{CLI} api|consumer|relay|migrate``: the processes of the {SERVICE} service."""
from __future__ import annotations

import asyncio
from pathlib import Path

import typer
import uvicorn

from rapport_shared.bus.workers import run_relay, serve_metrics
from rapport_shared.db import make_engine
from rapport_shared.migrations import upgrade_head
from rapport_shared.observability import configure_logging

from {PKG} import bootstrap
from {PKG}.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
cli = typer.Typer(help="Rapport {SERVICE} service.", no_args_is_help=True)


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
    typer.echo(f"{{settings.db_schema}}: migrations applied")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
''')
put(f"src/{PKG}/bootstrap.py", f'''
"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.contracts.catalogue import CONSUMERS
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.runtime import check_kafka, check_postgres
from rapport_shared.web import Readiness, install_common

from {PKG}.config import Settings


def create_app(settings: Settings) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        yield
        await engine.dispose()

    app = FastAPI(title="Rapport {SERVICE}", version="1.0.0", lifespan=lifespan)
    install_common(app, settings.service_name, readiness)
    return app


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """Translate one event into a command for the message bus (skeleton: nothing yet)."""


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    await run_bus_consumer(settings, engine, CONSUMERS["{SERVICE}"], handle)
''')
put("migrations/versions/0001_bus_tables.py", f'''
"""outbox and inbox

Revision ID: 0001
Revises:
"""
from alembic import op

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in add_bus_tables(schema_metadata("{SCHEMA}")):
        table.create(op.get_bind())


def downgrade() -> None:
    for table in add_bus_tables(schema_metadata("{SCHEMA}")):
        table.drop(op.get_bind())
''')
