"""Posts the evaluation data set to a running ingest service through its public HTTP API."""
from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from rapport_scoring.adapters.dataset_csv import CsvInvoice

CURRENCY = "USD"  # the data set states no currency
CONCURRENCY = 8


def progress(message: str) -> None:
    """Where a long evaluation stands, on stderr (the figures go to stdout)."""
    print(f"[eval {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class IngestUnavailable(RuntimeError):
    """The ingest service is missing or does not speak the API this evaluation needs."""


@dataclass
class LoadReport:
    customers: int = 0
    invoices: int = 0
    payments: int = 0
    fully_paid: int = 0
    rejected: list[str] = field(default_factory=list)


async def create_tenant(client: httpx.AsyncClient, admin_token: str) -> tuple[str, str]:
    response = await client.post("/v1/admin/tenants", json={"name": "evaluation"}, headers={"X-Admin-Token": admin_token})
    if response.status_code >= 300:
        raise IngestUnavailable(f"POST /v1/admin/tenants answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    return body["tenant_id"], body["api_key"]


async def _send(client: httpx.AsyncClient, gate: asyncio.Semaphore, key: str, method: str, url: str,
                body: dict) -> tuple[str, str | None]:
    async with gate:
        response = await client.request(method, url, json=body)
    if response.status_code in (404, 405) and response.headers.get("content-type", "").startswith("application/json") \
            and response.json().get("detail") in ("Not Found", "Method Not Allowed"):
        raise IngestUnavailable(f"ingest has no route {method} {url}")
    return key, None if response.status_code < 300 else f"{key}: {response.status_code} {response.text[:200]}"


async def _all(client, gate, requests: list[tuple[str, str, str, dict]]) -> dict[str, str]:
    """Sends every request; returns the errors by key."""
    results = await asyncio.gather(*(_send(client, gate, *request) for request in requests))
    return {key: error for key, error in results if error}


def _customer_ids(rows: Sequence[CsvInvoice]) -> dict[str, str]:
    return {name: f"CUST-{i:05d}" for i, name in enumerate(sorted({r.customer for r in rows}), start=1)}


def _invoice(r: CsvInvoice, ids: dict[str, str]) -> tuple[str, str, str, dict]:
    return (r.number, "PUT", f"/v1/invoices/{r.number}", {
        "customer_external_id": ids[r.customer], "issue_date": r.issue_date.isoformat(),
        "due_date": r.due_date.isoformat(), "currency": CURRENCY, "amount": format(r.amount, "f")})


def _payment(r: CsvInvoice, ids: dict[str, str]) -> tuple[str, str, str, dict]:
    return (r.number, "POST", "/v1/payments", {
        "external_id": f"PAY-{r.number}", "customer_external_id": ids[r.customer],
        "amount": format(r.settled_amount, "f"), "currency": CURRENCY, "received_on": r.paid_on.isoformat(),
        "allocations": [{"invoice_number": r.number, "amount": format(r.settled_amount, "f")}]})


async def load(base_url: str, api_key: str, rows: Sequence[CsvInvoice]) -> LoadReport:
    """Customers, then invoices, then payments (each allocated in full to its invoice)."""
    report, ids = LoadReport(), _customer_ids(rows)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as client:
        errors = await _all(client, gate, [(cid, "PUT", f"/v1/customers/{cid}", {"name": name, "currency": CURRENCY})
                                           for name, cid in ids.items()])
        report.customers = len(ids) - len(errors)
        report.rejected += errors.values()
        errors = await _all(client, gate, [_invoice(r, ids) for r in rows])
        report.invoices = len(rows) - len(errors)
        report.rejected += errors.values()
        payable = [r for r in rows if r.paid_on and r.number not in errors]
        errors = await _all(client, gate, [_payment(r, ids) for r in payable])
        report.payments = len(payable) - len(errors)
        report.rejected += errors.values()
        report.fully_paid = sum(1 for r in payable if r.settled_amount >= r.amount and r.number not in errors)
    return report


def _ndjson(records: list[dict]) -> bytes:
    import json

    return "".join(json.dumps(r) + "\n" for r in records).encode()


async def _import(client: httpx.AsyncClient, kind: str, records: list[dict], timeout: float = 1800) -> dict:
    """One bulk import job (NDJSON, native field names), waited for until it completes."""
    response = await client.post("/v1/imports", params={"kind": kind, "format": "ndjson"}, content=_ndjson(records),
                                 headers={"Content-Type": "application/x-ndjson"})
    if response.status_code != 202:
        raise IngestUnavailable(f"POST /v1/imports kind={kind} answered {response.status_code}: {response.text[:300]}")
    job_id = response.json()["job_id"]
    loop = asyncio.get_running_loop()
    deadline, shown = loop.time() + timeout, loop.time()
    while loop.time() < deadline:
        job = (await client.get(f"/v1/imports/{job_id}")).json()
        if job["status"] in ("completed", "failed"):
            if job["status"] == "failed":
                raise IngestUnavailable(f"import of {kind} failed: {job}")
            progress(f"ingest imported {job['rows_done']} {kind} ({job['rows_failed']} failed)")
            return job
        if loop.time() - shown > 15:
            progress(f"ingest importing {kind}: {job['rows_done']}/{job['rows_total']} rows committed")
            shown = loop.time()
        await asyncio.sleep(1.0)
    raise TimeoutError(f"import of {kind} did not finish in {timeout:.0f}s")


async def load_bulk(base_url: str, api_key: str, rows: Sequence[CsvInvoice]) -> LoadReport:
    """The same ledger through ingest's bulk imports; each payment names its invoice in the
    remittance text, so ingest's cash application allocates it exactly as a bank file would."""
    report, ids = LoadReport(), _customer_ids(rows)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as client:
        job = await _import(client, "customers", [{"external_id": cid, "name": name, "currency": CURRENCY}
                                                  for name, cid in ids.items()])
        report.customers = job["rows_done"]
        job = await _import(client, "invoices", [_invoice(r, ids)[3] | {"number": r.number} for r in rows])
        report.invoices = job["rows_done"]
        report.rejected += [f"invoices: {job['rows_failed']} rows failed"] if job["rows_failed"] else []
        payable = [r for r in rows if r.paid_on]
        job = await _import(client, "payments", [{
            "external_id": f"PAY-{r.number}", "customer_external_id": ids[r.customer],
            "amount": format(r.settled_amount, "f"), "currency": CURRENCY, "received_on": r.paid_on.isoformat(),
            "remittance_text": r.number} for r in payable])
        report.payments = job["rows_done"]
        report.rejected += [f"payments: {job['rows_failed']} rows failed"] if job["rows_failed"] else []
        report.fully_paid = sum(1 for r in payable if r.settled_amount >= r.amount) - job["rows_failed"]
    return report
