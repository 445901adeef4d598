"""Posts the evaluation data set to a running ingest service through its public HTTP API."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from rapport_scoring.adapters.dataset_csv import CsvInvoice

CURRENCY = "USD"  # the data set states no currency
CONCURRENCY = 8


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
