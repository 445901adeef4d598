"""Customers and contacts pushed by the ERP/CRM: idempotent upserts, stale updates ignored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row

from rapport_shared.ids import new_id

from rapport_ingest.domain.commands import UpsertContact, UpsertCustomer
from rapport_ingest.domain.errors import Invalid, NotFound
from rapport_ingest.service_layer.snapshots import contact_payload, customer_payload
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


@dataclass
class Upserted:
    row: Row
    created: bool
    applied: bool


def _customer_values(command: UpsertCustomer) -> dict[str, Any]:
    attrs = command.model_dump(mode="json", exclude={"name", "currency", "updated_at", "external_id"})
    return {"name": command.name, "currency": command.currency, "attributes": attrs,
            "source_updated_at": command.updated_at}


async def upsert_customer(uow: UnitOfWork, external_id: str, command: UpsertCustomer) -> Upserted:
    existing = await uow.ledger.customer_by_external(external_id, lock=True)
    values = _customer_values(command)
    if existing is None:
        customer_id = new_id()
        await uow.ledger.add_customer({"id": customer_id, "external_id": external_id, **values})
        row = await uow.ledger.customer_by_external(external_id)
        await uow.emit(customer_payload(row), customer_id)
        return Upserted(row, created=True, applied=True)
    if _stale(existing.source_updated_at, command.updated_at) or _same(existing, values):
        return Upserted(existing, created=False, applied=False)
    await uow.ledger.update_customer(existing.id, {**values, "version": existing.version + 1})
    row = await uow.ledger.customer_by_external(external_id)
    await uow.emit(customer_payload(row), row.id)
    return Upserted(row, created=False, applied=True)


def _stale(stored, incoming) -> bool:
    """An ERP update older than what the ledger holds must not overwrite it."""
    return stored is not None and incoming is not None and incoming < stored


def _same(row: Row, values: dict[str, Any]) -> bool:
    return row.name == values["name"] and row.currency == values["currency"] and row.attributes == values["attributes"]


async def ensure_customer(uow: UnitOfWork, external_id: str, name: str, currency: str) -> Row:
    """A customer named by an import row that the ledger has not seen yet."""
    existing = await uow.ledger.customer_by_external(external_id)
    if existing is not None:
        return existing
    return (await upsert_customer(uow, external_id, UpsertCustomer(name=name, currency=currency))).row


async def customer_or_404(uow: UnitOfWork, external_id: str, field: str = "customer_external_id") -> Row:
    row = await uow.ledger.customer_by_external(external_id)
    if row is None:
        raise NotFound(f"unknown customer {external_id!r}", field=field)
    return row


async def upsert_contact(uow: UnitOfWork, customer_external_id: str, external_id: str, command: UpsertContact) -> Upserted:
    customer = await customer_or_404(uow, customer_external_id, field="customer_external_id")
    attrs = command.model_dump(mode="json")
    existing = await uow.ledger.contact(customer.id, external_id)
    if existing is not None and existing.attributes == attrs:
        return Upserted(existing, created=False, applied=False)
    if existing is None:
        await uow.ledger.add_contact({"id": new_id(), "customer_id": customer.id, "external_id": external_id,
                                      "attributes": attrs})
    else:
        await uow.ledger.update_contact(existing.id, {"attributes": attrs, "version": existing.version + 1})
    row = await uow.ledger.contact(customer.id, external_id)
    await uow.emit(contact_payload(row), customer.id)
    return Upserted(row, created=existing is None, applied=True)


async def referenced_customer(uow: UnitOfWork, external_id: str, field: str = "customer_external_id") -> Row:
    """A customer named in a request body: unknown is bad input (422), not a missing resource."""
    row = await uow.ledger.customer_by_external(external_id)
    if row is None:
        raise unknown_customer(external_id, field)
    return row


def unknown_customer(external_id: str, field: str = "customer_external_id") -> Invalid:
    return Invalid(f"unknown customer {external_id!r}", field=field)
