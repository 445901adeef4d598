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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from harness import Stack, eventually
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


@dataclass
class Flow:
    """What the hops of one run share: the running stack, the bus watcher and the ERP's ids."""

    stack: Stack
    bus: TopicWatcher
    erp: Erp
    tenant: str = ""
    customer_id: str = ""
    contact_id: str = ""
    today: date | None = None
    invoices: dict[str, dict] = field(default_factory=dict)

    def mine(self, event) -> bool:
        return str(event.tenant_id) == self.tenant  # other tests share the topics

    async def wait(self, event_type: str, where=lambda e: True, *, count: int = 1, timeout: float = 180) -> list:
        return await self.bus.wait_for(lambda e: self.mine(e) and e.type == event_type and where(e),
                                       count=count, timeout=timeout)


async def test_skeleton_flow_end_to_end(stack, infra, sink_dir: Path):
    topics = [infra.topic(t) for t in ("invoice", "touchpoint", "outreach", "score")]
    async with TopicWatcher(infra.bootstrap, *topics) as bus, Erp(stack.url("ingest")) as erp:
        flow = Flow(stack, bus, erp)
        now = await _scheduler_now(stack)
        await erp_posts_customer_and_paid_invoice(flow, now)
        await erp_posts_open_invoices(flow)
        touch = await scheduler_chases_the_open_invoice(flow, advance=business_hours_zone(now) is None)
        sent = await outreach_sends_an_email(flow, touch, sink_dir)
        await portal_shows_invoices_and_message(flow, sent)
        await scoring_keeps_balance_and_aging(flow)
        await paid_invoice_is_never_chased(flow)


async def erp_posts_customer_and_paid_invoice(flow: Flow, now: datetime) -> None:
    """The ERP creates the customer (business hours now, no holidays) and an invoice it then pays in full."""
    erp = flow.erp
    flow.tenant = await erp.create_tenant("Northwind Supplies (e2e)")
    zone = business_hours_zone(now) or "Europe/Amsterdam"
    flow.today = now.astimezone(ZoneInfo(zone)).date()
    customer = await erp.customer("HARB-01", "Harbour Logistics BV", currency="EUR", country=None, time_zone=zone)
    contact = await erp.contact("HARB-01", "HARB-01-AP", "Ingrid de Vries", CONTACT_EMAIL, time_zone=zone)
    flow.customer_id, flow.contact_id = customer["customer_id"], contact["contact_id"]
    flow.invoices["B"] = await erp.invoice("INV-E2E-B", "HARB-01", issue=flow.today - timedelta(days=25),
                                           due=flow.today + timedelta(days=20), amount=AMOUNT_B)
    await erp.pay("PAY-E2E-B", "HARB-01", amount=AMOUNT_B, received_on=flow.today, allocations=[("INV-E2E-B", AMOUNT_B)])
    await flow.wait("rapport.invoice.balance_changed.v1",
                    lambda e: e.data["number"] == "INV-E2E-B" and e.data["status"] == "paid", timeout=120)
    await eventually(lambda: _scheduler_invoices(flow), lambda rows: rows.get("INV-E2E-B", {}).get("status") == "paid",
                     timeout=180, what="scheduler read model: B paid")


async def erp_posts_open_invoices(flow: Flow) -> None:
    """A's pre-due reminder (due - 3 days) is due today; C (due with B) is the control for B. Ledger + events."""
    issued_on = flow.today - timedelta(days=25)
    flow.invoices["A"] = await flow.erp.invoice("INV-E2E-A", "HARB-01", issue=issued_on, due=flow.today + timedelta(days=3),
                                                amount=AMOUNT_A)
    flow.invoices["C"] = await flow.erp.invoice("INV-E2E-C", "HARB-01", issue=issued_on, due=flow.today + timedelta(days=20),
                                                amount=AMOUNT_C)
    ledger = (await flow.erp.http.get("/v1/invoices/INV-E2E-A")).json()
    assert (ledger["customer_id"], Decimal(ledger["open_amount"]), ledger["status"]) == (flow.customer_id, Decimal(AMOUNT_A), "open")
    issued = {e.data["number"]: e for e in await flow.wait("rapport.invoice.issued.v1", count=3, timeout=120)}
    assert issued["INV-E2E-A"].data["invoice_id"] == flow.invoices["A"]["invoice_id"]
    assert Decimal(issued["INV-E2E-A"].data["amount_total"]) == Decimal(AMOUNT_A)
    assert issued["INV-E2E-A"].data["due_date"] == (flow.today + timedelta(days=3)).isoformat()
    assert issued["INV-E2E-C"].partitionkey == f"{flow.tenant}:{flow.customer_id}"


async def scheduler_chases_the_open_invoice(flow: Flow, *, advance: bool):
    """The default cadence's first step for A, to the AP contact, listing A only."""
    if advance:  # no zone in business hours (weekend): time-travel the scheduler instead
        await _admin_post(flow.stack, "scheduler", "/v1/admin/clock/advance", {"days": 3})
    touch = (await flow.wait("rapport.touchpoint.due.v1"))[0]
    assert touch.data["customer"]["customer_id"] == flow.customer_id
    assert touch.data["recipient"]["email"] == CONTACT_EMAIL
    assert [i["number"] for i in touch.data["invoices"]] == ["INV-E2E-A"]
    assert Decimal(touch.data["total_open"]) == Decimal(AMOUNT_A) and touch.data["currency"] == "EUR"
    # The pre-due step (-3), or "due" (0) when scoring's risk band (D/E) brings every step 3 days forward.
    assert touch.data["channel"] == "email" and touch.data["step_offset_days"] in (-3, 0)
    return touch


async def outreach_sends_an_email(flow: Flow, touch, sink_dir: Path):
    """A real .eml in the sink naming the invoice and its amount, and a `sent` event."""
    sent = (await flow.wait("rapport.outreach.sent.v1", lambda e: e.data.get("touchpoint_id") == touch.data["touchpoint_id"]))[0]
    assert sent.data["customer_id"] == flow.customer_id and flow.invoices["A"]["invoice_id"] in sent.data["invoice_ids"]
    eml = sink_dir / flow.tenant / f"{sent.data['message_id']}.eml"
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert CONTACT_EMAIL in mail["To"] and mail["Subject"]
    assert "INV-E2E-A" in body and ("4,480.00" in body or "4480.00" in body), body
    assert "INV-E2E-B" not in body
    return sent


async def portal_shows_invoices_and_message(flow: Flow, sent) -> None:
    """The customer signs in with a magic link and sees its invoices and the message sent."""
    async with await _portal_session(flow) as portal:
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
    assert message["channel"] == "email" and flow.invoices["A"]["invoice_id"] in message["invoice_ids"]


async def scoring_keeps_balance_and_aging(flow: Flow) -> None:
    """Open balance and aging kept from events, and a `score` event carrying aging."""
    open_balance = Decimal(AMOUNT_A) + Decimal(AMOUNT_C)
    balance = await eventually(lambda: _scoring_customer_aging(flow),
                               lambda item: item is not None and Decimal(item["total"]) == open_balance,
                               timeout=180, what="scoring aging of the customer = open balance of A + C")
    assert Decimal(balance["current"]) == open_balance  # nothing is overdue yet
    scored = await flow.wait("rapport.score.customer_scored.v1", lambda e: e.data["customer_id"] == flow.customer_id)
    aging = scored[-1].data["aging"]
    assert [a["currency"] for a in aging] == ["EUR"]
    # Scores are emitted on meaningful change only, so the last one shows the balance as it was then.
    assert sum(Decimal(v) for k, v in aging[0].items() if k != "currency") in {Decimal(AMOUNT_B), Decimal(AMOUNT_A), open_balance}


async def paid_invoice_is_never_chased(flow: Flow) -> None:
    """Past B's and C's pre-due day, C is chased and B is not, by event or in the scheduler's record."""
    await _admin_post(flow.stack, "scheduler", "/v1/admin/clock/advance", {"days": 18})
    later = (await flow.wait("rapport.touchpoint.due.v1",
                             lambda e: any(i["number"] == "INV-E2E-C" for i in e.data["invoices"])))[0]
    assert "INV-E2E-B" not in [i["number"] for i in later.data["invoices"]]
    chased = [e for e in flow.bus.events if flow.mine(e) and e.type.startswith("rapport.touchpoint.")
              and any(i["number"] == "INV-E2E-B" for i in e.data["invoices"])]
    assert chased == []
    recorded = (await _admin_get(flow.stack, "scheduler", "/v1/touchpoints", flow.tenant,
                                 customer_id=flow.customer_id))["touchpoints"]
    assert any(flow.invoices["C"]["invoice_id"] in t["invoice_ids"] for t in recorded)
    assert all(flow.invoices["B"]["invoice_id"] not in t["invoice_ids"] for t in recorded)


async def _scheduler_now(stack) -> datetime:
    clock = await _admin_get(stack, "scheduler", "/v1/admin/clock", None)
    return datetime.fromisoformat(clock["now"]).astimezone(timezone.utc)


async def _scheduler_invoices(flow: Flow) -> dict:
    body = await _admin_get(flow.stack, "scheduler", "/v1/invoices", flow.tenant, customer_id=flow.customer_id)
    return {i["number"]: i for i in body["invoices"]}


async def _scoring_customer_aging(flow: Flow) -> dict | None:
    body = await _admin_get(flow.stack, "scoring", "/v1/analytics/aging", flow.tenant, by="customer")
    return next((i for i in body["items"] if str(i["key"]) == flow.customer_id and i["currency"] == "EUR"), None)


async def _portal_session(flow: Flow) -> httpx.AsyncClient:
    """Sign in with a fresh magic link each try, until the portal's read model knows the contact."""
    from uuid import UUID

    from harness import PORTAL_LINK_SECRET

    async def exchange() -> httpx.Response:
        token = portal_link.mint(PORTAL_LINK_SECRET, UUID(flow.tenant), UUID(flow.customer_id), UUID(flow.contact_id),
                                 datetime.now(timezone.utc) + timedelta(hours=1))
        async with flow.stack.client("portal-api") as client:
            return await client.post("/v1/auth/session", json={"token": token})

    response = await eventually(exchange, lambda r: r.status_code == 201, timeout=120, what="portal sign-in")
    return flow.stack.client("portal-api", headers={"Authorization": f"Bearer {response.json()['session_token']}"})


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
