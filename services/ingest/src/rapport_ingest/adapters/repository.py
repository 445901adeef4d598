"""All SQL of the ledger, always scoped to one tenant."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import any_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_ingest.adapters.orm import (
    account_status, adjustments, allocations, contacts, credit_notes, customers, idempotency_keys,
    invoices, payments, pending_payments, tenants,
)


class LedgerRepository:
    def __init__(self, session: AsyncSession, tenant_id: UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def _one(self, statement: Any) -> Row | None:
        return (await self.session.execute(statement)).first()

    async def _insert(self, table: Any, values: dict) -> None:
        await self.session.execute(insert(table).values(tenant_id=self.tenant_id, **values))

    async def _update(self, table: Any, row_id: Any, values: dict) -> None:
        await self.session.execute(
            update(table).where(table.c.tenant_id == self.tenant_id, table.c.id == row_id).values(**values)
        )

    async def cash_application_policy(self) -> str:
        return (await self.session.execute(select(tenants.c.cash_application_policy)
                                           .where(tenants.c.id == self.tenant_id))).scalar_one()

    async def set_cash_application_policy(self, policy: str) -> None:
        await self.session.execute(update(tenants).where(tenants.c.id == self.tenant_id)
                                   .values(cash_application_policy=policy))

    # customers and contacts
    async def customer_by_external(self, external_id: str, *, lock: bool = False) -> Row | None:
        q = select(customers).where(customers.c.tenant_id == self.tenant_id, customers.c.external_id == external_id)
        return await self._one(q.with_for_update() if lock else q)

    async def customers_by_external(self, external_ids: Sequence[str]) -> dict[str, Row]:
        """The tenant's customers among ``external_ids``, by external id."""
        return {r.external_id: r for r in (await self.session.execute(select(customers).where(
            customers.c.tenant_id == self.tenant_id, customers.c.external_id == any_(list(external_ids))))).all()}

    async def customer_by_id(self, customer_id: UUID) -> Row | None:
        return await self._one(select(customers).where(
            customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id))

    async def add_customer(self, values: dict) -> None:
        await self._insert(customers, values)

    async def update_customer(self, customer_id: UUID, values: dict) -> None:
        await self._update(customers, customer_id, values)

    async def contact(self, customer_id: UUID, external_id: str) -> Row | None:
        return await self._one(select(contacts).where(
            contacts.c.tenant_id == self.tenant_id, contacts.c.customer_id == customer_id,
            contacts.c.external_id == external_id).with_for_update())

    async def add_contact(self, values: dict) -> None:
        await self._insert(contacts, values)

    async def update_contact(self, contact_id: UUID, values: dict) -> None:
        await self._update(contacts, contact_id, values)

    async def contacts_of(self, customer_id: UUID) -> Sequence[Row]:
        return (await self.session.execute(select(contacts).where(
            contacts.c.tenant_id == self.tenant_id, contacts.c.customer_id == customer_id)
            .order_by(contacts.c.external_id))).all()

    # invoices
    async def invoice_by_number(self, number: str, *, lock: bool = False) -> Row | None:
        q = select(invoices).where(invoices.c.tenant_id == self.tenant_id, invoices.c.number == number)
        return await self._one(q.with_for_update() if lock else q)

    async def invoice_by_id(self, invoice_id: UUID, *, lock: bool = False) -> Row | None:
        q = select(invoices).where(invoices.c.tenant_id == self.tenant_id, invoices.c.id == invoice_id)
        return await self._one(q.with_for_update() if lock else q)

    async def add_invoice(self, values: dict) -> Row:
        """The stored row (defaults included), without a second round trip to read it back."""
        return (await self.session.execute(
            insert(invoices).values(tenant_id=self.tenant_id, **values).returning(*invoices.c))).one()

    async def update_invoice(self, invoice_id: UUID, values: dict) -> None:
        await self._update(invoices, invoice_id, values)

    async def update_invoice_returning(self, invoice_id: UUID, values: dict) -> Row:
        """Update and return the stored row in one round trip."""
        return (await self.session.execute(
            update(invoices).where(invoices.c.tenant_id == self.tenant_id, invoices.c.id == invoice_id)
            .values(**values).returning(*invoices.c))).one()

    async def open_invoices(self, customer_id: UUID) -> Sequence[Row]:
        """The customer's open invoices, locked: cash application must see a stable set."""
        return (await self.session.execute(
            select(invoices).where(
                invoices.c.tenant_id == self.tenant_id, invoices.c.customer_id == customer_id,
                invoices.c.open_amount > 0, invoices.c.status != "void")
            .order_by(invoices.c.due_date, invoices.c.number).with_for_update())).all()

    async def list_invoices(self, *, status: str | None, customer_id: UUID | None, limit: int, offset: int) -> Sequence[Row]:
        q = select(invoices).where(invoices.c.tenant_id == self.tenant_id)
        if status:
            q = q.where(invoices.c.status == status)
        if customer_id:
            q = q.where(invoices.c.customer_id == customer_id)
        return (await self.session.execute(q.order_by(invoices.c.due_date, invoices.c.number).limit(limit).offset(offset))).all()

    async def open_balance(self, customer_id: UUID) -> Sequence[Row]:
        return (await self.session.execute(
            select(invoices.c.currency, func.sum(invoices.c.open_amount).label("open"), func.count().label("n"))
            .where(invoices.c.tenant_id == self.tenant_id, invoices.c.customer_id == customer_id,
                   invoices.c.open_amount > 0)
            .group_by(invoices.c.currency))).all()

    # payments, credit notes, allocations, adjustments
    async def payment_by_external(self, external_id: str, *, lock: bool = False) -> Row | None:
        q = select(payments).where(payments.c.tenant_id == self.tenant_id, payments.c.external_id == external_id)
        return await self._one(q.with_for_update() if lock else q)

    async def add_payment(self, values: dict) -> Row:
        """The stored row (defaults included), without a second round trip to read it back."""
        return (await self.session.execute(
            insert(payments).values(tenant_id=self.tenant_id, **values).returning(*payments.c))).one()

    async def payments_by_external(self, external_ids: Sequence[str]) -> set[str]:
        """Which of ``external_ids`` the tenant's ledger already holds."""
        return set((await self.session.execute(select(payments.c.external_id).where(
            payments.c.tenant_id == self.tenant_id, payments.c.external_id == any_(list(external_ids))))).scalars())

    async def update_payment(self, payment_id: UUID, values: dict) -> None:
        await self._update(payments, payment_id, values)

    async def credit_note(self, *, number: str | None = None, credit_note_id: UUID | None = None) -> Row | None:
        q = select(credit_notes).where(credit_notes.c.tenant_id == self.tenant_id)
        q = q.where(credit_notes.c.number == number) if number else q.where(credit_notes.c.id == credit_note_id)
        return await self._one(q.with_for_update())

    async def add_credit_note(self, values: dict) -> None:
        await self._insert(credit_notes, values)

    async def update_credit_note(self, credit_note_id: UUID, values: dict) -> None:
        await self._update(credit_notes, credit_note_id, values)

    async def add_allocation(self, values: dict) -> None:
        await self._insert(allocations, values)

    async def allocations_of(self, *, payment_id: UUID | None = None, invoice_id: UUID | None = None) -> Sequence[Row]:
        q = select(allocations, invoices.c.number).join(invoices, invoices.c.id == allocations.c.invoice_id)
        q = q.where(allocations.c.tenant_id == self.tenant_id)
        q = q.where(allocations.c.payment_id == payment_id) if payment_id else q.where(allocations.c.invoice_id == invoice_id)
        return (await self.session.execute(q.order_by(allocations.c.id))).all()

    async def add_adjustment(self, values: dict) -> None:
        await self._insert(adjustments, values)

    # idempotency, status read-back, pending portal payments
    async def idempotent_response(self, key: str) -> Row | None:
        return await self._one(select(idempotency_keys).where(
            idempotency_keys.c.tenant_id == self.tenant_id, idempotency_keys.c.key == key))

    async def remember_response(self, key: str, request_hash: str, status: int, body: Any) -> None:
        await self._insert(idempotency_keys, {"key": key, "request_hash": request_hash, "status_code": status, "response": body})

    async def status_facts(self, subject_id: UUID) -> dict:
        row = await self._one(select(account_status.c.facts).where(
            account_status.c.tenant_id == self.tenant_id, account_status.c.subject_id == subject_id))
        return dict(row.facts) if row else {}

    async def merge_status(self, subject_id: UUID, kind: str, facts: dict) -> None:
        statement = pg_insert(account_status).values(
            tenant_id=self.tenant_id, subject_id=subject_id, subject_kind=kind, facts=facts)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[account_status.c.tenant_id, account_status.c.subject_id],
            set_={"facts": account_status.c.facts.op("||")(statement.excluded.facts)}))

    async def add_pending_payment(self, values: dict) -> None:
        statement = pg_insert(pending_payments).values(tenant_id=self.tenant_id, **values)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def pending_payments_for(self, invoice_id: UUID) -> Sequence[Row]:
        return (await self.session.execute(select(pending_payments).where(
            pending_payments.c.tenant_id == self.tenant_id, pending_payments.c.status == "initiated",
            any_(pending_payments.c.invoice_ids) == invoice_id))).all()

    async def settle_pending(self, checkout_session_id: str) -> None:
        await self.session.execute(update(pending_payments).where(
            pending_payments.c.tenant_id == self.tenant_id,
            pending_payments.c.checkout_session_id == checkout_session_id).values(status="confirmed"))
