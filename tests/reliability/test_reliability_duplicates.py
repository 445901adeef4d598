"""The same event delivered twice has one effect in every consumer's read model."""
from __future__ import annotations

from decimal import Decimal

import pytest

from harness import SliceDb, eventually
from harness.events import Customer, payment_received
from harness.kafka import publish_envelopes, read_all
from rapport_shared.infra.naming import schema_of

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

PAYMENT_READERS = ("scheduler", "portal-api")


async def test_duplicate_payment_event_has_one_effect(stack, infra):
    db = SliceDb(infra)
    customer = Customer("Twice Delivered plc")
    invoice = customer.invoice_issued("INV-DUP-1", amount="1000.00")
    await publish_envelopes(infra.bootstrap, infra.topic("customer"), customer.upserted(), customer.contact_upserted())
    await publish_envelopes(infra.bootstrap, infra.topic("invoice"), invoice)
    await _handled_by_all(db, invoice.id)

    payment = payment_received(customer, invoice, "400.00", "BANK-DUP-1")
    # The scheduler *subtracts* allocations from open amounts, so a second application would show.
    await publish_envelopes(infra.bootstrap, infra.topic("payment"), payment, payment)
    # A later payment on the same partition: once it is handled, both copies above were consumed.
    sentinel = payment_received(customer, invoice, "100.00", "BANK-DUP-2")
    await publish_envelopes(infra.bootstrap, infra.topic("payment"), sentinel)
    await _handled_by_all(db, sentinel.id)

    copies = await read_all(infra.bootstrap, infra.topic("payment"),
                            until=lambda rs: len([r for r in rs if str(payment.id).encode() in r.value]) >= 2)
    print(f"\ncopies of {payment.id} on the payment topic: {len([r for r in copies if str(payment.id).encode() in r.value])}")

    tenant, invoice_id, payment_id = customer.tenant_id, invoice.data["invoice_id"], payment.data["payment_id"]
    open_amount = await db.scalar("SELECT open_amount FROM scheduler.invoices WHERE tenant_id = :t AND invoice_id = :i",
                                  t=tenant, i=invoice_id)
    assert Decimal(open_amount) == Decimal("500.00"), "the duplicate payment was applied twice (or not at all)"
    notes = await db.scalar("SELECT count(*) FROM scheduler.timeline WHERE tenant_id = :t AND ref_id = :p",
                            t=tenant, p=payment_id)
    assert notes == 1
    assert await db.scalar("SELECT count(*) FROM portal.payments WHERE tenant_id = :t AND payment_id = :p",
                           t=tenant, p=payment_id) == 1
    assert await db.scalar("SELECT count(*) FROM portal.interactions WHERE tenant_id = :t AND ref_id = :p",
                           t=tenant, p=payment_id) <= 1
    for service in PAYMENT_READERS:
        assert await db.scalar(f'SELECT count(*) FROM "{schema_of(service)}".inbox WHERE event_id = :e', e=payment.id) == 1
    await db.close()


async def _handled_by_all(db: SliceDb, event_id) -> None:
    for service in PAYMENT_READERS:
        await eventually(lambda s=service: db.inbox_has(schema_of(s), event_id), bool, timeout=180,
                         what=f"{service} handled {event_id}")
