"""The real processes (api, relay, consumer, create-tenant) and the ``rapport`` CLI, end to end."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.portal import CreditApplicationRequestedV1, PaymentInitiatedV1
from rapport_shared.contracts.score import CustomerScoredV1
from rapport_shared.contracts.task import CaseStatusChangedV1, DunningStageChangedV1
from rapport_shared.contracts.touchpoint import CustomerRef, Recipient, TouchInvoice, TouchpointDueV1
from rapport_shared.testing.kafka import TopicWatcher
from rapport_shared.testing.ports import free_port

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "quickbooks_open_invoices.csv"




@pytest.fixture(scope="module")
def running(infra, ingest_settings):
    port = free_port()
    env = infra.env(RAPPORT_INGEST_HTTP_PORT=str(port), RAPPORT_LOG_LEVEL="WARNING")
    procs = [subprocess.Popen([str(BIN / "rapport-ingest"), name], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for name in ("api", "relay", "consumer")]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url, env
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def create_tenant(env) -> str:
    out = subprocess.run([str(BIN / "rapport-ingest"), "create-tenant", "CLI Co"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines())["api_key"]


async def test_cli_import_against_the_running_api_publishes_events(running, infra):
    url, env = running
    key = create_tenant(env)
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        result = await asyncio.to_thread(subprocess.run, [
            str(BIN / "rapport"), "import", str(FIXTURE), "--preset", "quickbooks", "--api-url", url, "--api-key", key],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert (summary["status"], summary["rows_done"], summary["rows_failed"]) == ("completed", 8, 4)
        assert "rows not imported" in result.stderr
        events = await watcher.wait_for(lambda e: e.data.get("number") == "1012", timeout=30)
    assert events[0].data["amount_total"] == "954.7500"


async def test_consumer_keeps_what_others_said_and_applies_portal_requests(running, infra):
    url, env = running
    key = create_tenant(env)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        customer = (await http.put("/v1/customers/P-1", json={"name": "Portal Co", "currency": "USD"})).json()
        invoice = (await http.put("/v1/invoices/P-INV", json={"customer_external_id": "P-1", "issue_date": "2026-01-01",
                                                             "due_date": "2026-01-31", "currency": "USD", "amount": "500"})).json()
        note = (await http.post("/v1/credit-notes", json={"number": "P-CN", "customer_external_id": "P-1",
                                                          "issue_date": "2026-01-05", "currency": "USD", "amount": "120"})).json()
        await publish_others(infra, customer, invoice, note)
        view = await wait_for_view(http, "/v1/invoices/P-INV", lambda v: v["credited_amount"] == "120.0000"
                                   and v["pending_payments"] and "dunning" in v["collections"])
        assert view["open_amount"] == "380.0000" and view["status"] == "partially_paid"
        assert view["collections"]["dunning"]["stage"] == "firm" and view["pending_payments"][0]["amount"] == "380.0000"
        account = await wait_for_view(http, "/v1/customers/P-1", lambda v: "score" in v["collections"] and "promise" in v["collections"])
        assert account["collections"]["score"]["risk_band"] == "D"
        assert account["collections"]["promise"]["promised_date"] == "2026-02-20"


async def publish_others(infra, customer: dict, invoice: dict, note: dict) -> None:
    tenant = uuid.UUID(str((await _tenant_of(infra, customer["customer_id"]))))
    cid, iid = uuid.UUID(customer["customer_id"]), uuid.UUID(invoice["invoice_id"])
    now = datetime.now(timezone.utc)
    payloads = [
        DunningStageChangedV1(customer_id=cid, invoice_id=iid, stage="firm", last_touch_at=now),
        CustomerScoredV1(customer_id=cid, risk_band="D", late_probability=0.7, model_version="rules-1", scored_at=now),
        CaseStatusChangedV1(case_id=uuid.uuid4(), customer_id=cid, kind="promise", status="open", invoice_ids=[iid],
                            promised_date=date(2026, 2, 20), amount=Decimal("380"), currency="USD"),
        CreditApplicationRequestedV1(request_id=uuid.uuid4(), customer_id=cid, requested_at=now,
                                     credit_note_id=uuid.UUID(note["credit_note_id"]), invoice_id=iid,
                                     amount=Decimal("120"), currency="USD"),
        PaymentInitiatedV1(request_id=uuid.uuid4(), customer_id=cid, requested_at=now, checkout_session_id="cs_1",
                           invoice_ids=[iid], amount=Decimal("380"), currency="USD"),
    ]
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await producer.start()
    try:
        for payload in payloads:
            envelope = make_event(payload, source="test", tenant_id=tenant, customer_key=cid)
            await producer.publish(infra.topic(payload.topic), envelope)
            if isinstance(payload, CreditApplicationRequestedV1):
                await producer.publish(infra.topic(payload.topic), envelope)  # redelivery: one effect
    finally:
        await producer.stop()


async def _tenant_of(infra, customer_id: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(infra.database_url("ingest").replace("+asyncpg", ""))
    try:
        return await conn.fetchval("SELECT tenant_id FROM ingest.customers WHERE id = $1", uuid.UUID(customer_id))
    finally:
        await conn.close()


async def wait_for_view(http: httpx.AsyncClient, path: str, ready, timeout: float = 45) -> dict:
    deadline = time.monotonic() + timeout
    view: dict = {}
    while time.monotonic() < deadline:
        view = (await http.get(path)).json()
        if ready(view):
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never got there: {view}")


def _touchpoint(cid: uuid.UUID, invoice: dict, stage: str) -> TouchpointDueV1:
    return TouchpointDueV1(
        touchpoint_id=uuid.uuid4(), customer=CustomerRef(customer_id=cid, name="Touch Co"),
        recipient=Recipient(name="AP"), channel="email", template_key="overdue_firm", tone="firm", stage="d+30",
        step_offset_days=30, currency="USD", total_open=Decimal("500"),
        invoices=[TouchInvoice(invoice_id=uuid.UUID(invoice["invoice_id"]), number="T-INV", issue_date=date(2026, 1, 1),
                               due_date=date(2026, 1, 31), currency="USD", amount_total=Decimal("500"),
                               open_amount=Decimal("500"), days_overdue=30, stage=stage)])


async def _publish_at(infra, tenant: uuid.UUID, cid: uuid.UUID, timed: list) -> None:
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "test")
    await producer.start()
    try:
        for payload, at in timed:
            envelope = make_event(payload, source="scheduler", tenant_id=tenant, customer_key=cid, time=at)
            await producer.publish(infra.topic(payload.topic), envelope)
    finally:
        await producer.stop()


async def test_status_read_back_learns_stage_and_last_touch_from_the_touchpoint_and_keeps_the_newest(running, infra):
    """The scheduler sends no stage event for an invoice a touchpoint lists: the read-back takes the stage and
    last touch from the touchpoint. Stage events come on another topic, so they can arrive after a newer
    touchpoint: the older never wins."""
    url, env = running
    headers = {"Authorization": f"Bearer {create_tenant(env)}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        customer = (await http.put("/v1/customers/T-1", json={"name": "Touch Co", "currency": "USD"})).json()
        invoice = (await http.put("/v1/invoices/T-INV", json={"customer_external_id": "T-1", "issue_date": "2026-01-01",
                                                             "due_date": "2026-01-31", "currency": "USD", "amount": "500"})).json()
        tenant = uuid.UUID(str(await _tenant_of(infra, customer["customer_id"])))
        cid, iid = uuid.UUID(customer["customer_id"]), uuid.UUID(invoice["invoice_id"])
        touched_at = datetime.now(timezone.utc).replace(microsecond=0)
        await _publish_at(infra, tenant, cid, [(_touchpoint(cid, invoice, "d+7"), touched_at)])
        view = await wait_for_view(http, "/v1/invoices/T-INV", lambda v: "dunning" in v["collections"])
        dunning = view["collections"]["dunning"]
        assert (dunning["stage"], dunning["tone"], dunning["channel"]) == ("d+7", "firm", "email")
        assert datetime.fromisoformat(dunning["last_touch_at"]) == touched_at
        account = (await http.get("/v1/customers/T-1")).json()
        assert account["collections"]["dunning"]["stage"] == "d+30"  # the customer's: the touchpoint's own stage

        # An older stage event arriving late, then a case event on the same topic and key (same partition):
        # once the case shows, the stale stage event has been consumed.
        stale = DunningStageChangedV1(customer_id=cid, invoice_id=iid, stage="due", last_touch_at=touched_at - timedelta(days=7))
        marker = CaseStatusChangedV1(case_id=uuid.uuid4(), customer_id=cid, kind="promise", status="broken", invoice_ids=[iid])
        await _publish_at(infra, tenant, cid, [(stale, touched_at - timedelta(hours=1)), (marker, touched_at)])
        view = await wait_for_view(http, "/v1/invoices/T-INV", lambda v: "promise" in v["collections"])
        assert view["collections"]["dunning"]["stage"] == "d+7"
        assert datetime.fromisoformat(view["collections"]["dunning"]["last_touch_at"]) == touched_at

        # A newer pause wins and keeps the last touch.
        paused = DunningStageChangedV1(customer_id=cid, invoice_id=iid, stage="paused", paused_reason="dispute")
        await _publish_at(infra, tenant, cid, [(paused, touched_at + timedelta(minutes=5))])
        view = await wait_for_view(http, "/v1/invoices/T-INV",
                                   lambda v: v["collections"]["dunning"]["stage"] == "paused")
        assert view["collections"]["dunning"]["paused_reason"] == "dispute"
        assert datetime.fromisoformat(view["collections"]["dunning"]["last_touch_at"]) == touched_at
