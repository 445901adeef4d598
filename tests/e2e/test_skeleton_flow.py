"""The walking skeleton, end to end, through the five real services.

ERP -> ingest (ledger + ``invoice`` events) -> scheduler (default cadence, ``touchpoint.due``)
-> outreach (rendered ``.eml`` in the sink, ``outreach`` sent event) -> portal-api (the
customer sees invoices and the message) and scoring (open balance, aging, ``score`` event).
A paid invoice is never chased.
"""
from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from harness import eventually
from harness.erp import ADMIN_TOKEN, Erp
from rapport_shared.contracts import portal_link
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

AMOUNT_A, AMOUNT_B = "4480.00", "990.00"
CONTACT_EMAIL = "ap@harbour-logistics.example"


async def test_skeleton_flow_end_to_end(stack, infra, sink_dir: Path):
    topics = [infra.topic(t) for t in ("invoice", "touchpoint", "outreach", "score")]
    async with TopicWatcher(infra.bootstrap, *topics) as bus, Erp(stack.url("ingest")) as erp:
        tenant = await erp.create_tenant("Northwind Supplies (e2e)")
        mine = lambda e: str(e.tenant_id) == tenant  # noqa: E731 - other tests share the topics
        today = await _scheduler_today(stack)
        customer = await erp.customer("HARB-01", "Harbour Logistics BV", currency="EUR", country="NL",
                                      time_zone="Europe/Amsterdam", locale="en")
        contact = await erp.contact("HARB-01", "HARB-01-AP", "Ingrid de Vries", CONTACT_EMAIL)
        customer_id = customer["customer_id"]
        due = today + timedelta(days=5)
        inv_a = await erp.invoice("INV-E2E-A", "HARB-01", issue=today - timedelta(days=25), due=due, amount=AMOUNT_A)
        inv_b = await erp.invoice("INV-E2E-B", "HARB-01", issue=today - timedelta(days=25), due=due, amount=AMOUNT_B)

        # 1. ingest: ledger rows and one `issued` event per invoice.
        ledger = (await erp.http.get("/v1/invoices/INV-E2E-A")).json()
        assert (ledger["customer_id"], Decimal(ledger["open_amount"]), ledger["status"]) == (customer_id, Decimal(AMOUNT_A), "open")
        issued = await bus.wait_for(lambda e: mine(e) and e.type == "rapport.invoice.issued.v1", count=2, timeout=120)
        by_number = {e.data["number"]: e for e in issued}
        assert by_number["INV-E2E-A"].data["invoice_id"] == inv_a["invoice_id"]
        assert Decimal(by_number["INV-E2E-A"].data["amount_total"]) == Decimal(AMOUNT_A)
        assert by_number["INV-E2E-A"].data["due_date"] == due.isoformat()
        assert by_number["INV-E2E-B"].partitionkey == f"{tenant}:{customer_id}"

        # 2. B is paid in full before any reminder is due.
        await erp.pay("PAY-E2E-B", "HARB-01", amount=AMOUNT_B, received_on=today, allocations=[("INV-E2E-B", AMOUNT_B)])
        await bus.wait_for(lambda e: mine(e) and e.type == "rapport.invoice.balance_changed.v1"
                           and e.data["number"] == "INV-E2E-B" and e.data["status"] == "paid", timeout=120)
        await eventually(lambda: _scheduler_invoices(stack, tenant, customer_id),
                         lambda rows: rows.get("INV-E2E-B", {}).get("status") == "paid" and "INV-E2E-A" in rows,
                         timeout=180, what="scheduler read model: A open, B paid")

        # 3. scheduler: move its clock to the pre-due step (due - 3 days); a touchpoint for A only.
        touch = await _advance_until_touchpoint(stack, bus, mine, days=2)
        assert touch.data["customer"]["customer_id"] == customer_id
        assert touch.data["recipient"]["email"] == CONTACT_EMAIL
        assert [i["number"] for i in touch.data["invoices"]] == ["INV-E2E-A"]
        assert Decimal(touch.data["total_open"]) == Decimal(AMOUNT_A) and touch.data["currency"] == "EUR"
        assert touch.data["channel"] == "email" and touch.data["step_offset_days"] <= 0

        # 4. outreach: a real .eml in the sink naming the invoice and its amount, and a `sent` event.
        sent = (await bus.wait_for(lambda e: mine(e) and e.type == "rapport.outreach.sent.v1"
                                   and e.data.get("touchpoint_id") == touch.data["touchpoint_id"], timeout=180))[0]
        assert sent.data["customer_id"] == customer_id and inv_a["invoice_id"] in sent.data["invoice_ids"]
        eml = sink_dir / tenant / f"{sent.data['message_id']}.eml"
        mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert CONTACT_EMAIL in mail["To"] and mail["Subject"]
        assert "INV-E2E-A" in body and ("4,480.00" in body or "4480.00" in body), body
        assert "INV-E2E-B" not in body

        # 5. portal-api: the customer signs in with a magic link and sees invoices and the message.
        async with await _portal_session(stack, tenant, customer_id, contact["contact_id"]) as portal:
            invoices = await eventually(lambda: _json(portal.get("/v1/invoices")),
                                        lambda b: {i["number"]: i["status"] for i in b["items"]} == {"INV-E2E-A": "open", "INV-E2E-B": "paid"},
                                        timeout=120, what="portal invoices")
            shown = {i["number"]: i for i in invoices["items"]}
            assert Decimal(shown["INV-E2E-A"]["open_amount"]) == Decimal(AMOUNT_A)
            messages = await eventually(lambda: _json(portal.get("/v1/communications")),
                                        lambda b: any(m["id"] == sent.data["message_id"] for m in b["messages"]),
                                        timeout=120, what="portal communications")
            message = next(m for m in messages["messages"] if m["id"] == sent.data["message_id"])
            assert message["channel"] == "email" and inv_a["invoice_id"] in message["invoice_ids"]

        # 6. scoring: open balance and aging kept from events, and a `score` event with aging.
        scored = await bus.wait_for(lambda e: mine(e) and e.type == "rapport.score.customer_scored.v1"
                                    and e.data["customer_id"] == customer_id, timeout=180)
        aging = scored[-1].data["aging"]
        assert [a["currency"] for a in aging] == ["EUR"]
        buckets = {k: Decimal(v) for k, v in aging[0].items() if k != "currency"}
        assert sum(buckets.values()) in (Decimal(AMOUNT_A), Decimal(AMOUNT_B), Decimal(AMOUNT_A) + Decimal(AMOUNT_B))
        balance = await eventually(lambda: _scoring_customer_aging(stack, tenant, customer_id),
                                   lambda item: item is not None and Decimal(item["total"]) == Decimal(AMOUNT_A),
                                   timeout=180, what="scoring aging of the customer = open balance of A")
        assert Decimal(balance["current"]) == Decimal(AMOUNT_A)

        # 7. the paid invoice was never chased, by event or by the scheduler's own record.
        chased = [e for e in bus.events if mine(e) and e.type.startswith("rapport.touchpoint.")
                  and any(i["number"] == "INV-E2E-B" for i in e.data["invoices"])]
        assert chased == []
        recorded = (await _admin_get(stack, "scheduler", "/v1/touchpoints", tenant, customer_id=customer_id))["touchpoints"]
        assert recorded and all(inv_b["invoice_id"] not in t["invoice_ids"] for t in recorded)


async def _scheduler_today(stack) -> date:
    clock = await _admin_get(stack, "scheduler", "/v1/admin/clock", None)
    return datetime.fromisoformat(clock["now"]).astimezone(timezone.utc).date()


async def _advance_until_touchpoint(stack, bus, mine, *, days: int):
    """Jump to the pre-due step, then a day at a time (a send window may defer it) while still before due."""
    await _admin_post(stack, "scheduler", "/v1/admin/clock/advance", {"days": days})
    for attempt in range(3):
        try:
            return (await bus.wait_for(lambda e: mine(e) and e.type == "rapport.touchpoint.due.v1", timeout=90))[0]
        except AssertionError:
            if attempt < 2:
                await _admin_post(stack, "scheduler", "/v1/admin/clock/advance", {"days": 1})
    raise AssertionError("the scheduler emitted no touchpoint for the open invoice up to its due date")


async def _scheduler_invoices(stack, tenant: str, customer_id: str) -> dict:
    body = await _admin_get(stack, "scheduler", "/v1/invoices", tenant, customer_id=customer_id)
    return {i["number"]: i for i in body["invoices"]}


async def _scoring_customer_aging(stack, tenant: str, customer_id: str) -> dict | None:
    body = await _admin_get(stack, "scoring", "/v1/analytics/aging", tenant, by="customer")
    return next((i for i in body["items"] if str(i["key"]) == customer_id and i["currency"] == "EUR"), None)


async def _portal_session(stack, tenant: str, customer_id: str, contact_id: str) -> httpx.AsyncClient:
    """Sign in with a fresh magic link each try, until the portal's read model knows the contact."""
    from uuid import UUID

    from conftest import PORTAL_LINK_SECRET

    async def exchange() -> httpx.Response:
        token = portal_link.mint(PORTAL_LINK_SECRET, UUID(tenant), UUID(customer_id), UUID(contact_id),
                                 datetime.now(timezone.utc) + timedelta(hours=1))
        async with stack.client("portal-api") as client:
            return await client.post("/v1/auth/session", json={"token": token})

    response = await eventually(exchange, lambda r: r.status_code == 201, timeout=120, what="portal sign-in")
    return stack.client("portal-api", headers={"Authorization": f"Bearer {response.json()['session_token']}"})


async def _json(request) -> dict:
    response = await request
    assert response.status_code == 200, f"{response.status_code} {response.text[:300]}"
    return response.json()


async def _admin_get(stack, service: str, path: str, tenant: str | None, **params) -> dict:
    headers = {"X-Admin-Token": ADMIN_TOKEN, **({"X-Tenant-Id": tenant} if tenant else {})}
    async with stack.client(service) as client:
        return await _json(client.get(path, headers=headers, params=params))


async def _admin_post(stack, service: str, path: str, body: dict) -> dict:
    async with stack.client(service) as client:
        response = await client.post(path, json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 200, response.text
    return response.json()
