"""POST /v1/invoices without an Idempotency-Key runs on raw asyncpg (service_layer.invoice_post):
it must answer, store and emit exactly what the session path (taken with a key) does."""
from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from sqlalchemy import text

from rapport_shared.bus import codec
from rapport_shared.contracts.invoice import InvoiceIssuedV1
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration

BODY = {"customer_external_id": "C-1", "issue_date": "2026-01-01", "due_date": "2026-01-31", "currency": "EUR",
        "amount": "1250.5", "tax_amount": "208.42", "po_number": 'PO "7"\ttab', "terms": "Net 30",
        "lines": [{"description": "Consulting", "quantity": "2", "unit_price": "625.25", "amount": "1250.5"}]}


def _decoded(value: bytes):
    try:
        return codec.decode(value)
    except codec.PoisonMessage:
        return None


async def test_fast_path_answers_stores_and_emits_what_the_session_path_does(tenant, ingest_app, relay, infra):
    customer = await tenant.customer("C-1", currency="EUR")
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        fast = await tenant.post("/v1/invoices", {**BODY, "number": "F-1"})
        slow = await tenant.post("/v1/invoices", {**BODY, "number": "S-1"}, headers={"Idempotency-Key": "slow-1"})
        assert fast.status_code == slow.status_code == 201, (fast.text, slow.text)
        wanted = {fast.json()["invoice_id"], slow.json()["invoice_id"]}
        await watcher.wait_for(lambda e: e.data.get("invoice_id") in wanted, count=2)
    ids = {"invoice_id", "number"}
    assert {k: v for k, v in fast.json().items() if k not in ids} == {k: v for k, v in slow.json().items() if k not in ids}
    assert fast.json()["amount"] == "1250.5000" and fast.json()["lines"][0]["description"] == "Consulting"
    assert fast.json()["customer_id"] == customer["customer_id"]
    # The stored rows match column for column (but ids, number and timestamps).
    async with ingest_app.state.engine.connect() as conn:
        stored = {r.number: r._asdict() for r in (await conn.execute(text(
            "SELECT * FROM ingest.invoices WHERE tenant_id = :t AND number IN ('F-1', 'S-1')"),
            {"t": UUID(tenant.tenant_id)})).all()}
    skip = {"id", "number", "created_at", "updated_at"}
    assert {k: v for k, v in stored["F-1"].items() if k not in skip} == {k: v for k, v in stored["S-1"].items() if k not in skip}
    # And so do their events on Kafka: same payload, key and partition; the envelope correlated to itself.
    # The topic is shared with other tests, some of which publish poison on purpose: read only ours.
    records = {event.data["invoice_id"]: r for r, event in ((r, _decoded(r.value)) for r in watcher.raw)
               if event is not None and event.data.get("invoice_id") in wanted}
    fast_record, slow_record = records[fast.json()["invoice_id"]], records[slow.json()["invoice_id"]]
    assert (fast_record.key, fast_record.partition) == (slow_record.key, slow_record.partition)
    fast_event, slow_event = codec.decode(fast_record.value), codec.decode(slow_record.value)
    assert fast_event.correlation_id == fast_event.id and isinstance(fast_event.payload(), InvoiceIssuedV1)
    data_ids = {"invoice_id", "number"}
    assert {k: v for k, v in fast_event.data.items() if k not in data_ids} == {
        k: v for k, v in slow_event.data.items() if k not in data_ids}
    assert fast_event.data["number"] == "F-1"
    envelope = {"id", "time", "correlation_id", "data"}
    assert fast_event.model_dump(exclude=envelope) == slow_event.model_dump(exclude=envelope)
    assert str(fast_event.tenant_id) == tenant.tenant_id


async def test_fast_path_repeat_conflict_unknown_customer_and_tenant_isolation(tenant, other_tenant):
    await tenant.customer("C-1", currency="EUR")
    body = {**BODY, "number": "F-2"}
    first = await tenant.post("/v1/invoices", body)
    again = await tenant.post("/v1/invoices", body)
    assert first.status_code == 201 and again.status_code == 200 and again.json() == first.json()
    changed = await tenant.post("/v1/invoices", {**body, "amount": "1250.51"})
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "number"
    unknown = await tenant.post("/v1/invoices", {**body, "number": "F-3", "customer_external_id": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "customer_external_id"
    # Another tenant sees neither the invoice nor the customer.
    theirs = await other_tenant.post("/v1/invoices", body)
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["field"] == "customer_external_id"
    await other_tenant.customer("C-1", currency="EUR")
    own = await other_tenant.post("/v1/invoices", body)
    assert own.status_code == 201 and own.json()["invoice_id"] != first.json()["invoice_id"]
    assert (await tenant.get("/v1/invoices/F-2")).json()["invoice_id"] == first.json()["invoice_id"]
    bad = await tenant.post("/v1/invoices", {**body, "number": "F-4", "amount": "-1x"})
    assert bad.status_code == 422 and (await tenant.get("/v1/invoices/F-4")).status_code == 404


async def test_concurrent_posts_of_one_number_create_it_once(tenant, ingest_app):
    await tenant.customer("C-1", currency="EUR")
    answers = await asyncio.gather(*(tenant.post("/v1/invoices", {**BODY, "number": "F-RACE"}) for _ in range(8)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes
    async with ingest_app.state.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM ingest.invoices WHERE tenant_id = :t AND number = 'F-RACE'"),
                                    {"t": UUID(tenant.tenant_id)})).scalar_one()
    assert count == 1


async def test_fast_path_survives_its_connections_being_killed(tenant, ingest_app):
    from rapport_ingest.service_layer.invoice_post import APPLICATION_NAME

    await tenant.customer("C-1", currency="EUR")
    assert (await tenant.post("/v1/invoices", {**BODY, "number": "F-K1"})).status_code == 201
    async with ingest_app.state.engine.connect() as conn:
        killed = (await conn.execute(text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = :name"), {"name": APPLICATION_NAME})).scalar_one()
        await conn.commit()
    assert killed >= 1
    after = await tenant.post("/v1/invoices", {**BODY, "number": "F-K2"})
    assert after.status_code == 201, after.text


async def test_fast_path_pool_is_warm_before_the_first_request(ingest_settings):
    from rapport_ingest.bootstrap import create_app
    from rapport_ingest.service_layer.invoice_post import WARM_CONNECTIONS

    app = create_app(ingest_settings)
    async with app.router.lifespan_context(app):
        pool = app.state.fast_pool
        assert pool.get_min_size() == min(WARM_CONNECTIONS, ingest_settings.fast_pool_size) > 1
        assert pool.get_size() == pool.get_min_size() and pool.get_idle_size() == pool.get_min_size()
        held = [await pool.acquire() for _ in range(pool.get_min_size())]
        try:  # each start-up connection already holds the lookup as a prepared statement
            for conn in held:
                prepared = await conn.fetch("SELECT statement FROM pg_prepared_statements")
                assert app.state.invoice_poster.lookup_sql in {r["statement"] for r in prepared}
        finally:
            for conn in held:
                await pool.release(conn)
