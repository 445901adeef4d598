"""An ERP talking to ingest's HTTP API, as a customer's integration would."""
from __future__ import annotations

from datetime import date
from typing import Any

import httpx

ADMIN_TOKEN = "dev-admin-token"


class Erp:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.tenant_id: str = ""
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> "Erp":
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client:
            await self._client.aclose()

    async def create_tenant(self, name: str) -> str:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30.0) as client:
            response = await client.post("/v1/admin/tenants", json={"name": name}, headers={"X-Admin-Token": ADMIN_TOKEN})
        _ok(response, 201)
        body = response.json()
        self.tenant_id = body["tenant_id"]
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=30.0,
                                         headers={"Authorization": f"Bearer {body['api_key']}"})
        return self.tenant_id

    @property
    def http(self) -> httpx.AsyncClient:
        assert self._client, "create_tenant first"
        return self._client

    async def customer(self, external_id: str, name: str, *, currency: str = "EUR", country: str | None = "GB",
                       time_zone: str = "Europe/London", locale: str = "en", terms: int = 30) -> dict[str, Any]:
        response = await self.http.put(f"/v1/customers/{external_id}", json={
            "name": name, "currency": currency, "country": country, "time_zone": time_zone, "locale": locale,
            "payment_terms_days": terms})
        return _ok(response, 200, 201)

    async def contact(self, external_id: str, contact_external_id: str, name: str, email: str,
                      time_zone: str | None = None) -> dict[str, Any]:
        response = await self.http.put(f"/v1/customers/{external_id}/contacts/{contact_external_id}", json={
            "name": name, "email": email, "phone": "+447700900123", "is_primary": True, "time_zone": time_zone})
        return _ok(response, 200, 201)

    async def invoice(self, number: str, customer_external_id: str, *, issue: date, due: date, amount: str,
                      currency: str = "EUR") -> dict[str, Any]:
        response = await self.http.put(f"/v1/invoices/{number}", json={
            "customer_external_id": customer_external_id, "issue_date": issue.isoformat(),
            "due_date": due.isoformat(), "currency": currency, "amount": amount})
        return _ok(response, 200, 201)

    async def pay(self, external_id: str, customer_external_id: str, *, amount: str, received_on: date,
                  allocations: list[tuple[str, str]], currency: str = "EUR") -> dict[str, Any]:
        response = await self.http.post("/v1/payments", json={
            "external_id": external_id, "customer_external_id": customer_external_id, "amount": amount,
            "currency": currency, "received_on": received_on.isoformat(),
            "allocations": [{"invoice_number": n, "amount": a} for n, a in allocations]})
        return _ok(response, 200, 201)


def _ok(response: httpx.Response, *expected: int) -> dict[str, Any]:
    assert response.status_code in expected, f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:500]}"
    return response.json()
