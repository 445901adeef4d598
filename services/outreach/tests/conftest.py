"""Fixtures of the outreach suite: a migrated schema, provider fakes, the app and the sender in-process."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from rapport_outreach.testing.auth import ADMIN_TOKEN
from rapport_outreach.testing.provider_fakes import SendGridFake, ServerThread, TwilioFake

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture(scope="session")
def sendgrid_fake():
    fake = SendGridFake(timeout_sleep_s=1.5)
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="session")
def twilio_fake():
    fake = TwilioFake(timeout_sleep_s=1.5)
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(autouse=True)
def _fresh_fakes(request):
    """Each test starts with empty fakes and an empty script (only when it uses them)."""
    for name in ("sendgrid_fake", "twilio_fake"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


@pytest.fixture(scope="session")
def outreach_settings(infra, sendgrid_fake, twilio_fake, tmp_path_factory):
    from rapport_shared.migrations import upgrade_head

    from rapport_outreach.config import Settings

    upgrade_head(MIGRATIONS, infra.database_url("outreach"), "outreach")
    return Settings(
        **infra.settings_overrides("outreach"), sink_dir=tmp_path_factory.mktemp("sink"),
        email_provider="sendgrid", sms_provider="twilio",
        sendgrid_api_key=SendGridFake.api_key, sendgrid_base_url=sendgrid_fake.url, sendgrid_asm_group_id=4242,
        twilio_account_sid=TwilioFake.account_sid, twilio_auth_token=TwilioFake.auth_token,
        twilio_messaging_service_sid=TwilioFake.service_sid, twilio_base_url=twilio_fake.url,
        twilio_voice_from="+15550001234",
        public_base_url="http://outreach.test", provider_timeout_s=0.5, backoff_base_s=0.01, max_attempts=3,
        breaker_failures=50, sendgrid_webhook_public_key=WEBHOOK_KEY.public_b64, inbound_parse_token="parse-secret", admin_token=ADMIN_TOKEN)


class _WebhookKey:
    """An ECDSA P-256 key pair, as SendGrid signs its Event Webhook."""

    def __init__(self) -> None:
        import base64

        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.public_b64 = base64.b64encode(der).decode()

    def sign(self, timestamp: str, payload: str) -> str:
        import base64

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return base64.b64encode(self.private.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))).decode()


WEBHOOK_KEY = _WebhookKey()


@pytest.fixture(scope="session")
def webhook_key() -> _WebhookKey:
    return WEBHOOK_KEY


@pytest.fixture(scope="session")
async def engine(outreach_settings):
    from rapport_shared.db import make_engine

    engine = make_engine(outreach_settings.database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine):
    from rapport_shared.db import make_session_factory

    return make_session_factory(engine)


@pytest.fixture(scope="session")
async def deps(outreach_settings):
    from rapport_outreach.bootstrap import build_deps

    built = build_deps(outreach_settings)
    yield built
    await built.registry.aclose()  # the provider pool's keep-alive connections, on this (session) loop


@pytest.fixture
def sender(outreach_settings, sessions, deps):
    from rapport_outreach.bootstrap import build_sender

    return build_sender(outreach_settings, sessions, deps)


@pytest.fixture(scope="session")
async def outreach_app(outreach_settings, deps):
    from rapport_outreach.bootstrap import create_app

    app = create_app(outreach_settings, deps)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def client(outreach_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=outreach_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://outreach.test") as http:
        yield http


def touchpoint(**overrides):
    """A touchpoint as the scheduler emits it; every call is a new touchpoint for a new customer."""
    from rapport_shared.contracts.touchpoint import CustomerRef, Recipient, TouchInvoice, TouchpointDueV1

    fields = dict(
        touchpoint_id=uuid.uuid4(),
        customer=CustomerRef(customer_id=uuid.uuid4(), name="Northwind Traders"),
        recipient=Recipient(contact_id=uuid.uuid4(), name="Alex Dupont", email=f"ap-{uuid.uuid4().hex[:8]}@example.com",
                            phone="+3361" + str(uuid.uuid4().int)[:7], locale="fr"),
        channel="email", template_key="overdue_gentle", tone="friendly", stage="overdue", step_offset_days=7,
        currency="EUR", total_open=Decimal("1250.00"),
        invoices=[TouchInvoice(invoice_id=uuid.uuid4(), number="INV-1043", issue_date=date(2026, 1, 5),
                               due_date=date(2026, 2, 4), currency="EUR", amount_total=Decimal("1250.00"),
                               open_amount=Decimal("1250.00"), days_overdue=12)],
    )
    fields.update(overrides)
    return TouchpointDueV1(**fields)


@pytest.fixture
def make_touchpoint():
    return touchpoint


def envelope_for(payload, tenant_id: uuid.UUID):
    from rapport_shared.contracts.envelope import make_event

    customer = getattr(payload, "customer", None)
    customer_id = customer.customer_id if customer else payload.customer_id
    return make_event(payload, source="scheduler", tenant_id=tenant_id, customer_key=customer_id,
                      time=datetime.now(timezone.utc))


@pytest.fixture
def make_envelope():
    return envelope_for
