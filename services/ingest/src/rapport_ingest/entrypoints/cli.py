"""``rapport``: the command line people use instead of curl (``rapport import FILE --preset quickbooks``)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

cli = typer.Typer(help="Rapport command line: bulk import into the ledger.", no_args_is_help=True)
console = Console(stderr=True)


@cli.callback()
def _root() -> None:
    """Rapport command line."""


@cli.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    kind: str = typer.Option("invoices", help="invoices | customers | payments"),
    preset: str = typer.Option("native", help="quickbooks | xero | netsuite | custom | native"),
    fmt: str = typer.Option(None, "--format", help="csv | ndjson (default: from the file name)"),
    mapping: str = typer.Option(None, help='custom mapping as JSON, e.g. {"number": "Doc No"}'),
    api_url: str = typer.Option("http://127.0.0.1:8001", envvar="RAPPORT_API_URL"),
    api_key: str = typer.Option(..., envvar="RAPPORT_API_KEY"),
    wait: bool = typer.Option(True, help="follow the job until it finishes"),
) -> None:
    """Upload FILE as an import job, show its progress, then print the rows that failed."""
    params = {"kind": kind, "preset": preset, "format": fmt or ("ndjson" if file.suffix in (".ndjson", ".jsonl") else "csv")}
    if mapping:
        params["mapping"] = mapping
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as http:
        with file.open("rb") as upload:
            response = http.post("/v1/imports", params=params, files={"file": (file.name, upload)})
        _fail_on_error(response)
        job_id = response.json()["job_id"]
        console.print(f"import job [bold]{job_id}[/bold] queued")
        if not wait:
            typer.echo(job_id)
            return
        job = _follow(http, job_id)
        errors = http.get(f"/v1/imports/{job_id}/errors").json() if job["rows_failed"] else []
    _report(job, errors)
    if job["status"] != "completed":
        raise typer.Exit(2)


def _follow(http: httpx.Client, job_id: str) -> dict:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("importing", total=None)
        while True:
            response = http.get(f"/v1/imports/{job_id}")
            _fail_on_error(response)
            job = response.json()
            progress.update(task, total=job["rows_total"], completed=job["rows_done"] + job["rows_failed"],
                            description=f"importing ({job['rows_failed']} failed)")
            if job["status"] in ("completed", "failed"):
                return job
            time.sleep(0.3)


def _report(job: dict, errors: list[dict]) -> None:
    console.print(f"{job['status']}: {job['rows_done']} imported, {job['rows_failed']} failed of {job['rows_total']}")
    if job.get("detail"):
        console.print(f"[red]{job['detail']}[/red]")
    if errors:
        table = Table("row", "field", "reason", title="rows not imported")
        for error in errors[:200]:
            table.add_row(str(error["row"]), error["field"] or "-", error["reason"])
        console.print(table)
    typer.echo(json.dumps({k: job[k] for k in ("job_id", "status", "rows_total", "rows_done", "rows_failed")}))


def _fail_on_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        console.print(f"[red]error {response.status_code}:[/red] {detail}")
        raise typer.Exit(1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
