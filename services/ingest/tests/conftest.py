"""Fixtures of the ingest suite: a migrated schema, the app in-process, tenants, a relay to Kafka."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture(scope="session")
def ingest_settings(infra):
    from rapport_shared.migrations import upgrade_head

    from rapport_ingest.config import Settings

    upgrade_head(MIGRATIONS, infra.database_url("ingest"), "ingest")
    return Settings(**infra.settings_overrides("ingest"), import_poll_s=0.05, import_chunk_rows=50,
                    stripe_webhook_secret="whsec_test_secret")


@pytest.fixture(scope="session")
async def ingest_app(ingest_settings):
    from rapport_ingest.bootstrap import create_app

    app = create_app(ingest_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def client(ingest_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest.test") as http:
        yield http


@dataclass
class Tenant:
    tenant_id: str
    api_key: str
    http: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def put(self, path: str, body: dict, **kw) -> httpx.Response:
        return await self.http.put(path, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def post(self, path: str, body: dict | None = None, **kw) -> httpx.Response:
        return await self.http.post(path, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def get(self, path: str, **kw) -> httpx.Response:
        return await self.http.get(path, headers=self.headers, **kw)

    async def finished_import(self, job_id: str, timeout: float = 60) -> dict:
        """The import job once it has completed or failed."""
        for _ in range(int(timeout / 0.1)):
            job = (await self.get(f"/v1/imports/{job_id}")).json()
            if job["status"] in ("completed", "failed"):
                return job
            await asyncio.sleep(0.1)
        raise AssertionError(f"import {job_id} did not finish: {job}")

    async def customer(self, external_id: str = "C-1", currency: str = "USD", **extra) -> dict:
        response = await self.put(f"/v1/customers/{external_id}", {"name": f"Customer {external_id}", "currency": currency, **extra})
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def invoice(self, number: str, amount: str, customer: str = "C-1", due: str = "2026-03-01",
                      currency: str = "USD", issue: str = "2025-12-01") -> dict:
        response = await self.put(f"/v1/invoices/{number}", {
            "customer_external_id": customer, "issue_date": issue, "due_date": due,
            "currency": currency, "amount": amount})
        assert response.status_code in (200, 201), response.text
        return response.json()


async def make_tenant(http: httpx.AsyncClient, name: str = "Acme") -> Tenant:
    response = await http.post("/v1/admin/tenants", json={"name": name}, headers={"X-Admin-Token": "dev-admin-token"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Tenant(body["tenant_id"], body["api_key"], http)


@pytest.fixture
async def tenant(client) -> Tenant:
    return await make_tenant(client, f"Tenant {uuid.uuid4().hex[:6]}")


@pytest.fixture
async def other_tenant(client) -> Tenant:
    return await make_tenant(client, "Other Co")


@pytest.fixture(scope="session")
async def relay(ingest_app, ingest_settings):
    """The real outbox relay publishing to the real broker while the session runs."""
    from rapport_shared.bus.outbox import OutboxRelay
    from rapport_shared.bus.producer import EventProducer, make_kafka_producer

    producer = EventProducer(make_kafka_producer(ingest_settings.kafka_bootstrap), "ingest")
    await producer.start()
    outbox_relay = OutboxRelay(ingest_app.state.engine, "ingest", producer, "ingest", idle_poll_s=0.05)
    task = asyncio.create_task(outbox_relay.run())
    yield outbox_relay
    outbox_relay.stop()
    await task
    await producer.stop()
