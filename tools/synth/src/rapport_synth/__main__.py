"""``rapport-synth generate|load|summary``: the synthetic company from the command line."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from pathlib import Path

import typer

from rapport_synth.export import write_files
from rapport_synth.generator import generate_company
from rapport_synth.loader import LoadError, load_company
from rapport_synth.model import Company

cli = typer.Typer(help="Rapport synthetic company generator.", no_args_is_help=True)

SEED = typer.Option(7, help="random seed: one seed, one company")
CUSTOMERS = typer.Option(50, min=1, help="number of customers")
MONTHS = typer.Option(6, min=1, help="months of invoice history before today")
TODAY = typer.Option(None, help="the generator's today (YYYY-MM-DD); default: the UTC date")


def _company(seed: int, customers: int, months: int, today: str | None) -> Company:
    return generate_company(seed=seed, customers=customers, months=months,
                            today=date.fromisoformat(today) if today else None)


@cli.command()
def generate(
    out: Path = typer.Option(Path("synth-out"), help="folder for the NDJSON/CSV files"),
    seed: int = SEED, customers: int = CUSTOMERS, months: int = MONTHS, today: str | None = TODAY,
) -> None:
    """Write the company as NDJSON and CSV import files."""
    company = _company(seed, customers, months, today)
    for path in write_files(company, out):
        typer.echo(path)


@cli.command()
def summary(seed: int = SEED, customers: int = CUSTOMERS, months: int = MONTHS, today: str | None = TODAY) -> None:
    """Print what a seed generates: behaviours, invoices, payments, open and overdue counts."""
    company = _company(seed, customers, months, today)
    typer.echo(f"customers: {len(company.customers)}  invoices: {len(company.invoices)}  payments: {len(company.payments)}")
    for behaviour, n in sorted(Counter(c.behaviour.value for c in company.customers).items()):
        typer.echo(f"  {behaviour:<14} {n}")
    open_ = [i for i in company.invoices if company.open_amount(i.number) > 0]
    overdue = [i for i in open_ if i.due_date < company.today]
    typer.echo(f"open invoices: {len(open_)}  of which overdue: {len(overdue)}  not yet due: {len(open_) - len(overdue)}")


@cli.command()
def load(
    api_url: str = typer.Option("http://127.0.0.1:8001", help="ingest API base URL"),
    admin_token: str = typer.Option("dev-admin-token", envvar="RAPPORT_INGEST_ADMIN_TOKEN", help="ingest admin token"),
    tenant_name: str = typer.Option("Demo Company", help="name of the tenant to create"),
    state_file: Path | None = typer.Option(None, help="remember the tenant here and reuse it on the next load"),
    concurrency: int = typer.Option(8, min=1, help="requests in flight"),
    seed: int = SEED, customers: int = CUSTOMERS, months: int = MONTHS, today: str | None = TODAY,
) -> None:
    """Create a tenant through the ingest API and post the whole company to it."""
    company = _company(seed, customers, months, today)
    try:
        result = asyncio.run(load_company(company, api_url, admin_token, tenant_name=tenant_name,
                                          state_file=state_file, concurrency=concurrency))
    except LoadError as exc:
        typer.echo(f"load failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    loaded = ", ".join(f"{n} {kind}" for kind, n in result.counts.items())
    typer.echo(f"loaded {loaded}")
    typer.echo(f"tenant_id={result.tenant_id}")
    typer.echo(f"api_key={result.api_key}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
