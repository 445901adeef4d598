"""Payments: record one, let cash application allocate it, reverse or refund it later."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Row

from rapport_shared.contracts.payment import Allocation, PaymentReceivedV1, PaymentReversedV1
from rapport_shared.ids import new_id

from rapport_ingest.domain import cash_application as cash
from rapport_ingest.domain.commands import RecordPayment, ReversePayment
from rapport_ingest.domain.errors import Invalid, NotFound
from rapport_ingest.service_layer.balances import move
from rapport_ingest.service_layer.customers import referenced_customer
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

SCALE = Decimal("0.0001")  # the ledger's numeric(20, 4)


async def record_payment(
    uow: UnitOfWork, command: RecordPayment, *, source: str = "erp", policy: cash.Policy | None = None,
    customer: Row | None = None, known_new: bool = False,
) -> tuple[Row, bool]:
    """Returns the payment and whether it is new (a repeated external id changes nothing).

    ``known_new``: the caller has just checked that the ledger holds no payment of this external id
    (an import does that for a whole chunk at once)."""
    if not known_new:
        existing = await uow.ledger.payment_by_external(command.external_id)
        if existing is not None:
            return existing, False
    if customer is None and command.customer_external_id:
        customer = await referenced_customer(uow, command.customer_external_id)
    if customer is None:
        raise Invalid("a payment needs the customer it came from", field="customer_external_id")
    open_rows = {r.id: r for r in await uow.ledger.open_invoices(customer.id)}
    incoming = incoming_of(command)
    policy = policy or await uow.ledger.cash_application_policy()
    match = cash.match_payment(incoming, [_open(r) for r in open_rows.values()], policy)
    payment_id = new_id()
    row = await uow.ledger.add_payment(payment_values(command, payment_id, customer.id, source, incoming, match))
    for invoice, amount in match.allocations:
        # The row as this payment left it: explicit allocations may name one invoice twice.
        open_rows[invoice.invoice_id] = await move(uow, open_rows[invoice.invoice_id], "payment", amount,
                                                   cause="payment", rule=match.rule, payment_id=payment_id)
    await uow.emit(received_event(row._mapping, match), customer.id)
    return row, True


def incoming_of(command: RecordPayment) -> cash.Incoming:
    return cash.Incoming(
        amount=command.amount, currency=command.currency, remittance_text=command.remittance_text,
        requested=tuple(cash.Requested(a.invoice_number, a.amount) for a in command.allocations),
    )


def payment_values(command: RecordPayment, payment_id: UUID, customer_id: UUID, source: str,
                   incoming: cash.Incoming, match: cash.Match) -> dict[str, Any]:
    """The payment's row (tenant aside), amounts at the ledger's scale: what the row reads back as."""
    return {
        "id": payment_id, "customer_id": customer_id, "external_id": command.external_id,
        "amount": command.amount.quantize(SCALE), "currency": command.currency, "received_on": command.received_on,
        "method": command.method, "reference": command.reference, "remittance_text": command.remittance_text,
        "source": source, "unapplied_amount": cash.unapplied_amount(incoming, match).quantize(SCALE),
        "match_rule": match.rule, "needs_review": match.needs_review, "review_reason": match.review_reason,
    }


def received_event(payment: Mapping[str, Any], match: cash.Match) -> PaymentReceivedV1:
    """``PaymentReceivedV1`` of a stored (or about to be stored) payment row and how it was matched."""
    return PaymentReceivedV1(
        payment_id=payment["id"], customer_id=payment["customer_id"], external_id=payment["external_id"],
        amount=payment["amount"], currency=payment["currency"], received_on=payment["received_on"],
        method=payment["method"], reference=payment["reference"], source=payment["source"],
        allocations=[Allocation(invoice_id=i.invoice_id, invoice_number=i.number, amount=a)
                     for i, a in match.allocations],
        unapplied_amount=payment["unapplied_amount"], match_rule=payment["match_rule"],
        needs_review=payment["needs_review"], review_reason=payment["review_reason"],
    )


def _open(row: Row) -> cash.OpenInvoice:
    return cash.OpenInvoice(row.id, row.number, row.currency, row.open_amount, row.due_date)


async def payment_or_404(uow: UnitOfWork, external_id: str) -> Row:
    row = await uow.ledger.payment_by_external(external_id, lock=True)
    if row is None:
        raise NotFound(f"no payment {external_id!r}", field="external_id")
    return row


async def reverse_payment(uow: UnitOfWork, external_id: str, command: ReversePayment) -> Row:
    """Take money back: first from the unapplied credit, then from the newest allocations."""
    payment = await payment_or_404(uow, external_id)
    remaining = payment.amount - payment.refunded_amount
    amount = command.amount if command.amount is not None else remaining
    if amount > remaining:
        raise Invalid(f"{amount} exceeds what is left of the payment ({remaining})", field="amount")
    from_unapplied = min(amount, payment.unapplied_amount)
    reversed_allocations = await _undo_allocations(uow, payment, amount - from_unapplied, command)
    await uow.ledger.update_payment(payment.id, {
        "refunded_amount": payment.refunded_amount + amount,
        "unapplied_amount": payment.unapplied_amount - from_unapplied,
    })
    await uow.emit(PaymentReversedV1(
        payment_id=payment.id, customer_id=payment.customer_id, amount=amount, currency=payment.currency,
        kind=command.kind, reason=command.reason, reversed_allocations=reversed_allocations,
    ), payment.customer_id)
    return await uow.ledger.payment_by_external(external_id)


async def _undo_allocations(uow: UnitOfWork, payment: Row, amount: Decimal, command: ReversePayment) -> list[Allocation]:
    cause = "refund" if command.kind == "refund" else "reversal"
    net = _net_by_invoice(await uow.ledger.allocations_of(payment_id=payment.id))
    undone: list[Allocation] = []
    for invoice_id, (number, applied) in reversed(list(net.items())):
        if amount <= 0:
            break
        take = min(amount, applied)
        if take <= 0:
            continue
        invoice = await uow.ledger.invoice_by_id(invoice_id, lock=True)
        await move(uow, invoice, "payment", -take, cause=cause, reason=command.reason, payment_id=payment.id)
        undone.append(Allocation(invoice_id=invoice_id, invoice_number=number, amount=take))
        amount -= take
    return undone


def _net_by_invoice(rows) -> dict[UUID, tuple[str, Decimal]]:
    net: dict[UUID, tuple[str, Decimal]] = {}
    for row in rows:
        number, total = net.get(row.invoice_id, (row.number, Decimal(0)))
        net[row.invoice_id] = (number, total + row.amount)
    return net
