"""Realistic events for tests that talk to Kafka directly (as ingest would have emitted them)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from rapport_shared.contracts import make_event
from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.invoice import InvoiceIssuedV1


class Customer:
    """One tenant's customer with its AP contact, as upsert events."""

    def __init__(self, name: str = "Globex Industrial Ltd", currency: str = "GBP") -> None:
        self.tenant_id: UUID = uuid4()
        self.customer_id: UUID = uuid4()
        self.contact_id: UUID = uuid4()
        self.name = name
        self.currency = currency
        self.external_id = f"CUST-{self.customer_id.hex[:6].upper()}"

    def upserted(self) -> Envelope:
        payload = CustomerUpsertedV1(customer_id=self.customer_id, external_id=self.external_id, name=self.name,
                                     country="GB", time_zone="Europe/London", locale="en", currency=self.currency)
        return make_event(payload, source="rapport/ingest", tenant_id=self.tenant_id, customer_key=self.customer_id)

    def contact_upserted(self) -> Envelope:
        payload = ContactUpsertedV1(contact_id=self.contact_id, customer_id=self.customer_id, name="Hannah Price",
                                    role="Accounts Payable", email="ap@globex.example", is_primary=True)
        return make_event(payload, source="rapport/ingest", tenant_id=self.tenant_id, customer_key=self.customer_id)

    def invoice_issued(self, number: str, amount: str = "1250.00", due_in_days: int = 30) -> Envelope:
        issue = date(2027, 3, 1)
        payload = InvoiceIssuedV1(
            invoice_id=uuid4(), customer_id=self.customer_id, customer_external_id=self.external_id, number=number,
            issue_date=issue, due_date=issue + timedelta(days=due_in_days), currency=self.currency,
            amount_total=Decimal(amount), open_amount=Decimal(amount), status="open",
        )
        return make_event(payload, source="rapport/ingest", tenant_id=self.tenant_id, customer_key=self.customer_id)


def payment_received(customer: Customer, invoice: Envelope, amount: str, external_id: str) -> Envelope:
    """A payment fully allocated to one invoice (as ingest's cash application reports it)."""
    from rapport_shared.contracts.payment import Allocation, PaymentReceivedV1

    payload = PaymentReceivedV1(
        payment_id=uuid4(), customer_id=customer.customer_id, external_id=external_id, amount=Decimal(amount),
        currency=customer.currency, received_on=date(2026, 11, 20), source="bank",
        allocations=[Allocation(invoice_id=invoice.data["invoice_id"], invoice_number=invoice.data["number"],
                                amount=Decimal(amount))],
        unapplied_amount=Decimal("0"),
    )
    return make_event(payload, source="rapport/ingest", tenant_id=customer.tenant_id, customer_key=customer.customer_id)
