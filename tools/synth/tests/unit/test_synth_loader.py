"""The loader against an in-process fake of the ingest API that checks every request."""
import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from rapport_synth import generate_company
from rapport_synth.loader import LoadError, load_company

TODAY = date(2026, 6, 15)


class FakeIngest:
    """Keeps what a ledger would and refuses what a ledger would refuse."""

    def __init__(self, fail_invoice: str | None = None) -> None:
        self.tenants: dict[str, str] = {}
        self.customers: dict[str, dict] = {}
        self.contacts: dict[tuple[str, str], dict] = {}
        self.invoices: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.fail_invoice = fail_invoice

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("/")[1:]
        body = json.loads(request.content) if request.content else {}
        if path == ["v1", "admin", "tenants"]:
            assert request.headers["X-Admin-Token"] == "tok" and body["name"]
            key = f"key-{len(self.tenants) + 1}"
            self.tenants[key] = f"tenant-{len(self.tenants) + 1}"
            return httpx.Response(201, json={"tenant_id": self.tenants[key], "api_key": key})
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tenants:
            return httpx.Response(401, json={"detail": "unknown api key"})
        return self._ledger(request.method, path[1:], body)

    def _ledger(self, method: str, path: list[str], body: dict) -> httpx.Response:
        if method == "PUT" and path[0] == "customers" and len(path) == 2:
            assert body["currency"] in ("USD", "EUR", "GBP", "CAD", "AUD") and body["collector"]["email"]
            self.customers[path[1]] = body
        elif method == "PUT" and path[0] == "customers":
            assert path[1] in self.customers and path[2] == "contacts"
            assert body["preferred_channel"] in ("email", "sms", "call", "voice", "letter")
            self.contacts[(path[1], path[3])] = body
        elif method == "PUT" and path[0] == "invoices":
            if path[1] == self.fail_invoice:
                return httpx.Response(422, json={"detail": "bad", "errors": [{"field": "due_date", "reason": "no"}]})
            assert body["customer_external_id"] in self.customers
            Decimal(body["amount"]), date.fromisoformat(body["due_date"])
            self.invoices[path[1]] = body
        elif method == "POST" and path == ["payments"]:
            assert all(a["invoice_number"] in self.invoices for a in body["allocations"])
            if body["external_id"] in self.payments:
                return httpx.Response(409, json={"detail": "payment already recorded"})
            self.payments[body["external_id"]] = body
        else:
            return httpx.Response(404)
        return httpx.Response(200, json={})


async def test_loads_everything_in_dependency_order_and_reuses_the_tenant(tmp_path):
    company = generate_company(seed=9, customers=12, months=3, today=TODAY)
    fake = FakeIngest()
    state = tmp_path / "tenant.json"
    kwargs = dict(state_file=state, transport=httpx.MockTransport(fake), concurrency=4)
    first = await load_company(company, "http://ingest", "tok", **kwargs)
    assert first.tenant_id == "tenant-1" and first.api_key == "key-1"
    assert set(fake.invoices) == {i.number for i in company.invoices}
    assert set(fake.payments) == {p.external_id for p in company.payments}
    assert len(fake.contacts) == sum(len(c.contacts) for c in company.customers)
    assert first.counts == {"customers": 12, "contacts": len(fake.contacts), "invoices": len(company.invoices),
                            "payments": len(company.payments)}
    again = await load_company(company, "http://ingest", "tok", **kwargs)
    assert again.tenant_id == "tenant-1" and len(fake.tenants) == 1


async def test_refused_rows_fail_the_load_with_the_reason():
    company = generate_company(seed=9, customers=4, months=2, today=TODAY)
    fake = FakeIngest(fail_invoice=company.invoices[0].number)
    with pytest.raises(LoadError, match=f"(?s)invoices: 1 of .*{company.invoices[0].number}.*due_date"):
        await load_company(company, "http://ingest", "tok", transport=httpx.MockTransport(fake))
    assert not fake.payments
