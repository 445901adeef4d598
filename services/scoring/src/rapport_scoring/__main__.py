"""``rapport-scoring api|consumer|relay|trainer|eval|migrate``: the processes of the scoring service."""
from __future__ import annotations

import asyncio
from pathlib import Path

import typer
import uvicorn

from rapport_shared.bus.workers import run_relay, serve_metrics
from rapport_shared.db import make_engine
from rapport_shared.migrations import upgrade_head
from rapport_shared.observability import configure_logging
from rapport_shared.testing.infra import find_repo_root

from rapport_scoring.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
cli = typer.Typer(help="Rapport scoring service.", no_args_is_help=True)


def _one_thread() -> None:
    """Rescoring predicts a few rows at a time: OpenMP threads would only add start-up cost."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return settings


@cli.command()
def api() -> None:
    """Serve the HTTP API."""
    from rapport_scoring import bootstrap  # heavy (scikit-learn): only the processes that score load it

    settings = _settings()
    uvicorn.run(bootstrap.create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False)


@cli.command()
def consumer() -> None:
    """Consume this service's topics until SIGTERM."""
    from rapport_scoring import bootstrap

    settings = _settings()
    serve_metrics(settings.metrics_port)
    _one_thread()
    asyncio.run(bootstrap.run_consumer(settings))


@cli.command()
def relay() -> None:
    """Publish the outbox to Kafka until SIGTERM."""
    settings = _settings()
    serve_metrics(settings.metrics_port)
    asyncio.run(run_relay(settings, make_engine(settings.database_url, pool_size=2)))


@cli.command()
def trainer() -> None:
    """Retrain every tenant's model now and every RAPPORT_SCORING_RETRAIN_INTERVAL_S until SIGTERM."""
    from rapport_scoring import bootstrap

    settings = _settings()
    serve_metrics(settings.metrics_port)
    asyncio.run(bootstrap.run_trainer(settings))


@cli.command("eval")
def evaluate(
    data: Path = typer.Option(None, help="CSV to evaluate on (default: ../shared/data/invoice_payments_train.csv)"),
    report: Path = typer.Option(None, help="also write the full report as JSON here"),
    keep: bool = typer.Option(False, help="keep the evaluation database and topics afterwards"),
    timeout: float = typer.Option(900.0, help="seconds to wait for the read model to catch up"),
    offline: bool = typer.Option(False, help="skip ingest and Kafka: features straight from the CSV (development only)"),
    per_record: bool = typer.Option(False, help="one API request per customer/invoice/payment instead of bulk imports"),
) -> None:
    """Reproducible evaluation through the real ingest path: model vs the customer's own history."""
    from rapport_scoring.entrypoints import eval_cli

    configure_logging("scoring-eval", "WARNING", False)
    root = find_repo_root(Path.cwd())
    data = data or root.parent / "shared" / "data" / "invoice_payments_train.csv"
    try:
        result = eval_cli.run_offline(data) if offline else eval_cli.run(root, data, keep=keep, timeout=timeout, bulk=not per_record)
    except (eval_cli.IngestUnavailable, eval_cli.ServiceDied, FileNotFoundError, TimeoutError) as exc:
        typer.echo(f"evaluation failed: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(eval_cli.render(result))
    if report:
        eval_cli.dump(result, report)


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
