"""The walking skeleton, end to end, through the five real services.

ERP -> ingest (ledger + ``invoice`` events) -> scheduler (default cadence, ``touchpoint.due``)
-> outreach (rendered ``.eml`` in the sink, ``outreach`` sent event) -> portal-api (the
customer sees invoices and the message) and scoring (open balance, aging, ``score`` event).
A paid invoice is never chased.
"""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from harness import eventually
from harness.erp import ADMIN_TOKEN, Erp
from rapport_shared.contracts import portal_link
from rapport_shared.testing.kafka import TopicWatcher

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

AMOUNT_A, AMOUNT_B, AMOUNT_C = "4480.00", "990.00", "1500.00"
CONTACT_EMAIL = "ap@harbour-logistics.example"
# One zone per few hours of offset, so at almost any moment one of them is in business hours.
ZONES = ("Pacific/Kiritimati", "Pacific/Auckland", "Asia/Tokyo", "Asia/Bangkok", "Asia/Kolkata", "Asia/Dubai",
         "Europe/Athens", "Europe/Amsterdam", "UTC", "Atlantic/Cape_Verde", "America/Sao_Paulo", "America/New_York",
         "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
         "Pacific/Pago_Pago")


def business_hours_zone(now: datetime) -> str | None:
    """A zone where it is now a weekday between 10:00 and 15:00, so a message due today is sent right away.

    Outreach honours the touchpoint's send window in real time, so the flow can only reach the
    sink within the test when the window is open now (weekends: None, the clock is advanced).
    """
    for name in ZONES:
        local = now.astimezone(ZoneInfo(name))
        if local.weekday() < 5 and 10 <= local.hour < 15:
            return name
    return None


async def test_skeleton_flow_end_to_end(stack, infra, sink_dir: Path):
    topics = [infra.topic(t) for t in ("invoice", "touchpoint", "outreach", "score")]
    async with TopicWatcher(infra.bootstrap, *topics) as bus, Erp(stack.url("ingest")) as erp:
        tenant = await erp.create_tenant("Northwind Supplies (e2e)")
        mine = lambda e: str(e.tenant_id) == tenant  # noqa: E731 - other tests share the topics
        now = await _scheduler_now(stack)
        zone = business_hours_zone(now) or "Europe/Amsterdam"
        today = now.astimezone(ZoneInfo(zone)).date()
        # No country: no public holidays, only weekends, move the send window.
        customer = await erp.customer("HARB-01", "Harbour Logistics BV", currency="EUR", country=None,
                                      time_zone=zone, locale="en")
        contact = await erp.contact("HARB-01", "HARB-01-AP", "Ingrid de Vries", CONTACT_EMAIL, time_zone=zone)
        customer_id = customer["customer_id"]
        issued_on = today - timedelta(days=25)

        # B is paid in full before any of its reminders is due.
        inv_b = await erp.invoice("INV-E2E-B", "HARB-01", issue=issued_on, due=today + timedelta(days=20), amount=AMOUNT_B)
        await erp.pay("PAY-E2E-B", "HARB-01", amount=AMOUNT_B, received_on=today, allocations=[("INV-E2E-B", AMOUNT_B)])
        await bus.wait_for(lambda e: mine(e) and e.type == "rapport.invoice.balance_changed.v1"
                           and e.data["number"] == "INV-E2E-B" and e.data["status"] == "paid", timeout=120)
        await eventually(lambda: _scheduler_invoices(stack, tenant, customer_id),
                         lambda rows: rows.get("INV-E2E-B", {}).get("status") == "paid", timeout=180,
                         what="scheduler read model: B paid")
        # A's pre-due reminder (due - 3 days) is due today; C (same due date as B) is the control for B.
        due_a = today + timedelta(days=3)
        inv_a = await erp.invoice("INV-E2E-A", "HARB-01", issue=issued_on, due=due_a, amount=AMOUNT_A)
        inv_c = await erp.invoice("INV-E2E-C", "HARB-01", issue=issued_on, due=today + timedelta(days=20), amount=AMOUNT_C)

        # 1. ingest: ledger rows and one `issued` event per invoice.
        ledger = (await erp.http.get("/v1/invoices/INV-E2E-A")).json()
        assert (ledger["customer_id"], Decimal(ledger["open_amount"]), ledger["status"]) == (customer_id, Decimal(AMOUNT_A), "open")
        issued = await bus.wait_for(lambda e: mine(e) and e.type == "rapport.invoice.issued.v1", count=3, timeout=120)
        by_number = {e.data["number"]: e for e in issued}
        assert by_number["INV-E2E-A"].data["invoice_id"] == inv_a["invoice_id"]
        assert Decimal(by_number["INV-E2E-A"].data["amount_total"]) == Decimal(AMOUNT_A)
        assert by_number["INV-E2E-A"].data["due_date"] == due_a.isoformat()
        assert by_number["INV-E2E-C"].partitionkey == f"{tenant}:{customer_id}"

        # 2. scheduler: the default cadence's pre-due step for A, to the AP contact, listing A only.
        if business_hours_zone(now) is None:
            await _admin_post(stack, "scheduler", "/v1/admin/clock/advance", {"days": 3})
        touch = (await bus.wait_for(lambda e: mine(e) and e.type == "rapport.touchpoint.due.v1", timeout=180))[0]
        assert touch.data["customer"]["customer_id"] == customer_id
        assert touch.data["recipient"]["email"] == CONTACT_EMAIL
        assert [i["number"] for i in touch.data["invoices"]] == ["INV-E2E-A"]
        assert Decimal(touch.data["total_open"]) == Decimal(AMOUNT_A) and touch.data["currency"] == "EUR"
        # The pre-due step (-3), or "due" (0) when scoring's risk band (D/E) brings every step 3 days forward.
        assert touch.data["channel"] == "email" and touch.data["step_offset_days"] in (-3, 0)

        # 3. outreach: a real .eml in the sink naming the invoice and its amount, and a `sent` event.
        sent = (await bus.wait_for(lambda e: mine(e) and e.type == "rapport.outreach.sent.v1"
                                   and e.data.get("touchpoint_id") == touch.data["touchpoint_id"], timeout=180))[0]
        assert sent.data["customer_id"] == customer_id and inv_a["invoice_id"] in sent.data["invoice_ids"]
        eml = sink_dir / tenant / f"{sent.data['message_id']}.eml"
        mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert CONTACT_EMAIL in mail["To"] and mail["Subject"]
        assert "INV-E2E-A" in body and ("4,480.00" in body or "4480.00" in body), body
        assert "INV-E2E-B" not in body

        # 4. portal-api: the customer signs in with a magic link and sees invoices and the message.
        async with await _portal_session(stack, tenant, customer_id, contact["contact_id"]) as portal:
            expected = {"INV-E2E-A": "open", "INV-E2E-B": "paid", "INV-E2E-C": "open"}
            invoices = await eventually(lambda: _json(portal.get("/v1/invoices")),
                                        lambda b: {i["number"]: i["status"] for i in b["items"]} == expected,
                                        timeout=120, what="portal invoices")
            shown = {i["number"]: i for i in invoices["items"]}
            assert Decimal(shown["INV-E2E-A"]["open_amount"]) == Decimal(AMOUNT_A)
            messages = await eventually(lambda: _json(portal.get("/v1/communications")),
                                        lambda b: any(m["id"] == sent.data["message_id"] for m in b["messages"]),
                                        timeout=120, what="portal communications")
            message = next(m for m in messages["messages"] if m["id"] == sent.data["message_id"])
            assert message["channel"] == "email" and inv_a["invoice_id"] in message["invoice_ids"]

        # 5. scoring: open balance and aging kept from events, and a `score` event with aging.
        open_balance = Decimal(AMOUNT_A) + Decimal(AMOUNT_C)
        balance = await eventually(lambda: _scoring_customer_aging(stack, tenant, customer_id),
                                   lambda item: item is not None and Decimal(item["total"]) == open_balance,
                                   timeout=180, what="scoring aging of the customer = open balance of A + C")
        assert Decimal(balance["current"]) == open_balance  # nothing is overdue yet
        scored = await bus.wait_for(lambda e: mine(e) and e.type == "rapport.score.customer_scored.v1"
                                    and e.data["customer_id"] == customer_id, timeout=180)
        aging = scored[-1].data["aging"]
        assert [a["currency"] for a in aging] == ["EUR"]
        # Scores are emitted on meaningful change only, so the last one shows the balance as it was then.
        seen_balances = {Decimal(AMOUNT_B), Decimal(AMOUNT_A), open_balance}
        assert sum(Decimal(v) for k, v in aging[0].items() if k != "currency") in seen_balances

        # 6. the paid invoice is never chased: past B's and C's pre-due day, C is chased and B is not.
        await _admin_post(stack, "scheduler", "/v1/admin/clock/advance", {"days": 18})
        later = (await bus.wait_for(lambda e: mine(e) and e.type == "rapport.touchpoint.due.v1"
                                    and any(i["number"] == "INV-E2E-C" for i in e.data["invoices"]), timeout=180))[0]
        assert "INV-E2E-B" not in [i["number"] for i in later.data["invoices"]]
        chased = [e for e in bus.events if mine(e) and e.type.startswith("rapport.touchpoint.")
                  and any(i["number"] == "INV-E2E-B" for i in e.data["invoices"])]
        assert chased == []
        recorded = (await _admin_get(stack, "scheduler", "/v1/touchpoints", tenant, customer_id=customer_id))["touchpoints"]
        assert any(inv_c["invoice_id"] in t["invoice_ids"] for t in recorded)
        assert all(inv_b["invoice_id"] not in t["invoice_ids"] for t in recorded)


async def _scheduler_now(stack) -> datetime:
    clock = await _admin_get(stack, "scheduler", "/v1/admin/clock", None)
    return datetime.fromisoformat(clock["now"]).astimezone(timezone.utc)


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
