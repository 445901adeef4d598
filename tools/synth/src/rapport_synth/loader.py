"""Posts a generated company to a running ingest API, a few requests at a time.

Order matters to the ledger: customers, then their contacts, then invoices, then
payments (which allocate to invoices). Every call is idempotent on the API side
(PUT by external id; payments carry their external id), so a second load of the
same company changes nothing.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from rapport_synth.export import contact_body, customer_body, invoice_body, payment_body
from rapport_synth.model import Company

RETRIES = 4
ALREADY_THERE = {409}  # a payment id the ledger already holds


class LoadError(RuntimeError):
    """The ingest API refused part of the company; the message lists what and why."""


@dataclass
class LoadResult:
    tenant_id: str
    api_key: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Call:
    method: str
    path: str
    body: dict


class Loader:
    def __init__(self, client: httpx.AsyncClient, concurrency: int = 8) -> None:
        self._client = client
        self._gate = asyncio.Semaphore(concurrency)

    async def create_tenant(self, name: str, admin_token: str) -> tuple[str, str]:
        response = await self._client.post("/v1/admin/tenants", json={"name": name}, headers={"X-Admin-Token": admin_token})
        _raise_for(response, "create tenant")
        data = response.json()
        return str(data["tenant_id"]), str(data["api_key"])

    async def key_works(self, api_key: str, company: Company) -> bool:
        """A saved key is still good when the ledger accepts the first customer with it."""
        first = company.customers[0]
        response = await self._send(_Call("PUT", f"/v1/customers/{_q(first.external_id)}", customer_body(first)), api_key)
        return response.status_code < 400

    async def load(self, company: Company, api_key: str) -> dict[str, int]:
        phases: list[tuple[str, list[_Call]]] = [
            ("customers", [_Call("PUT", f"/v1/customers/{_q(c.external_id)}", customer_body(c)) for c in company.customers]),
            ("contacts", [
                _Call("PUT", f"/v1/customers/{_q(c.external_id)}/contacts/{_q(k.external_id)}", contact_body(k))
                for c in company.customers for k in c.contacts
            ]),
            ("invoices", [_Call("PUT", f"/v1/invoices/{_q(i.number)}", invoice_body(i)) for i in company.invoices]),
            ("payments", [_Call("POST", "/v1/payments", payment_body(p)) for p in company.payments]),
        ]
        counts = {}
        for name, calls in phases:
            await self._run_phase(name, calls, api_key)
            counts[name] = len(calls)
        return counts

    async def _run_phase(self, name: str, calls: list[_Call], api_key: str) -> None:
        responses = await asyncio.gather(*(self._guarded(c, api_key) for c in calls))
        failures = [(c, r) for c, r in zip(calls, responses) if r.status_code >= 400 and r.status_code not in ALREADY_THERE]
        if failures:
            lines = [f"{c.method} {c.path} -> {r.status_code} {r.text[:300]}" for c, r in failures[:5]]
            raise LoadError(f"{name}: {len(failures)} of {len(calls)} requests refused:\n  " + "\n  ".join(lines))

    async def _guarded(self, call: _Call, api_key: str) -> httpx.Response:
        async with self._gate:
            return await self._send(call, api_key)

    async def _send(self, call: _Call, api_key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api_key}"}
        for attempt in range(RETRIES):
            try:
                response = await self._client.request(call.method, call.path, json=call.body, headers=headers)
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
            else:
                if response.status_code not in (502, 503, 504) or attempt == RETRIES - 1:
                    return response
            await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        raise LoadError(f"{what}: {response.status_code} {response.text[:300]}")


async def load_company(
    company: Company, api_url: str, admin_token: str, *, tenant_name: str = "Demo Company",
    state_file: Path | None = None, concurrency: int = 8,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    """Create (or reuse, via ``state_file``) a tenant and load ``company`` into it."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30, transport=transport) as client:
        loader = Loader(client, concurrency)
        saved = _read_state(state_file)
        if saved and await loader.key_works(saved["api_key"], company):
            tenant_id, api_key = saved["tenant_id"], saved["api_key"]
        else:
            tenant_id, api_key = await loader.create_tenant(tenant_name, admin_token)
            _write_state(state_file, {"tenant_id": tenant_id, "api_key": api_key, "api_url": api_url})
        counts = await loader.load(company, api_key)
    return LoadResult(tenant_id, api_key, counts)


def _read_state(path: Path | None) -> dict | None:
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None
    return data if {"tenant_id", "api_key"} <= data.keys() else None


def _write_state(path: Path | None, data: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
