"""Fixtures of the portal-api suite: migrated schema, app on real Postgres, fake Stripe, seeded customers."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import CreditNoteIssuedV1, InvoiceIssuedV1
from rapport_shared.migrations import upgrade_head
from rapport_shared.time import ManualClock

from rapport_portal.bootstrap import create_app, handle
from rapport_portal.config import Settings

import sys
sys.path.insert(0, str(Path(__file__).parent))
from portal_fakes import FakeStripe  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
STRIPE_KEY = "sk_test_portal_suite"


@dataclass
class Account:
    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    contact_id: uuid.UUID
    email: str
    invoice_ids: list[uuid.UUID] = field(default_factory=list)
    credit_note_id: uuid.UUID | None = None


async def seed_account(portal, *, tenant_id=None, invoices: int = 3, today: date = TODAY,
                       amount: str = "100.50", currency: str = "EUR", credit: str | None = None) -> Account:
    """A customer, one contact and ``invoices`` open invoices (the first overdue), as ingest would emit them."""
    tenant_id = tenant_id or uuid.uuid4()
    acct = Account(tenant_id, uuid.uuid4(), uuid.uuid4(), f"ap-{uuid.uuid4().hex[:8]}@customer.test")
    events = [CustomerUpsertedV1(customer_id=acct.customer_id, external_id="C-" + acct.email[3:11], name="Acme GmbH", currency=currency),
              ContactUpsertedV1(contact_id=acct.contact_id, customer_id=acct.customer_id, name="Ann Payable", email=acct.email)]
    for n in range(invoices):
        invoice_id = uuid.uuid4()
        acct.invoice_ids.append(invoice_id)
        events.append(InvoiceIssuedV1(
            invoice_id=invoice_id, customer_id=acct.customer_id, number=f"INV-{n + 1:04d}", po_number=f"PO-{n % 7}",
            issue_date=today - timedelta(days=40 - n), due_date=today - timedelta(days=10) + timedelta(days=15 * n),
            currency=currency, amount_total=Decimal(amount), open_amount=Decimal(amount), status="open"))
    if credit:
        acct.credit_note_id = uuid.uuid4()
        events.append(CreditNoteIssuedV1(credit_note_id=acct.credit_note_id, customer_id=acct.customer_id, number="CN-1",
                                         issue_date=today - timedelta(days=5), currency=currency,
                                         amount=Decimal(credit), unapplied_amount=Decimal(credit)))
    async with portal.unit_of_work() as session:
        for payload in events:
            await handle(session, make_event(payload, source="ingest", tenant_id=tenant_id, customer_key=acct.customer_id))
    return acct


@pytest.fixture(scope="session")
def portal_migrated(infra) -> str:
    url = infra.database_url("portal-api")
    upgrade_head(MIGRATIONS, url, "portal")
    return url


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe(STRIPE_KEY) as fake:
        yield fake


@pytest.fixture(scope="session")
def portal_settings(infra, portal_migrated, fake_stripe, tmp_path_factory) -> Settings:
    return Settings(**infra.settings_overrides("portal-api"), upload_dir=tmp_path_factory.mktemp("uploads"),
                    stripe_api_key=STRIPE_KEY, stripe_api_base=fake_stripe.url, base_url="http://portal.test",
                    login_per_ip_per_minute=100_000, login_per_email_per_hour=100_000)


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(scope="session")
async def portal_app(portal_settings, clock) -> AsyncIterator:
    app = create_app(portal_settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def portal(portal_app):
    return portal_app.state.portal


@pytest.fixture
async def client(portal_app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal_app), base_url="http://portal.test") as c:
        yield c


async def sign_in(client: httpx.AsyncClient, acct: Account) -> dict[str, str]:
    """Bearer headers for a fresh session of ``acct``'s contact (through the admin link and the exchange)."""
    link = await client.post("/v1/admin/magic-links", json={"tenant_id": str(acct.tenant_id), "contact_id": str(acct.contact_id)},
                             headers={"X-Admin-Token": "dev-admin-token"})
    assert link.status_code == 201, link.text
    session = await client.post("/v1/auth/session", json={"token": link.json()["token"]})
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['session_token']}"}
