"""Customer rows of one import chunk, upserted set-wise with the API's rules.

The API's ``upsert_customer`` costs five statements and a savepoint per row. Here a chunk costs
one locked read of the customers it names, one multi-row insert, one batched update, one read of
the written rows and one batched outbox insert, whatever its size. The decisions are the API's
own (``customers._customer_values`` / ``_stale`` / ``_same``), and so are the events
(``customer_payload``). A customer named twice in a chunk is upserted in rounds, in file order,
so the later row sees the earlier one exactly as it would one by one.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import any_, bindparam, insert, select, update

from rapport_shared.ids import new_id

from rapport_ingest.adapters.orm import customers
from rapport_ingest.service_layer.customers import _customer_values, _same, _stale
from rapport_ingest.service_layer.snapshots import customer_payload
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


async def upsert_customers(uow: UnitOfWork, commands: list[tuple[int, Any]]) -> int:
    """Rows done: every command (``None`` is a report's totals row, done with nothing to write)."""
    pending = [command for _, command in commands if command is not None]
    done = len(commands) - len(pending)
    while pending:
        this_round, later, seen = [], [], set()
        for command in pending:
            (later if command.external_id in seen else this_round).append(command)
            seen.add(command.external_id)
        await _upsert_round(uow, this_round)
        done += len(this_round)
        pending = later
    return done


async def _upsert_round(uow: UnitOfWork, commands: list[Any]) -> None:
    """Commands naming distinct customers."""
    session, tenant_id = uow.session, uow.tenant_id
    existing = {r.external_id: r for r in (await session.execute(
        select(customers).where(customers.c.tenant_id == tenant_id,
                                customers.c.external_id == any_([c.external_id for c in commands]))
        .with_for_update())).all()}
    inserts, updates, written = [], [], []
    for command in commands:
        values = _customer_values(command)
        row = existing.get(command.external_id)
        if row is None:
            customer_id = new_id()
            inserts.append({"id": customer_id, "tenant_id": tenant_id, "external_id": command.external_id, **values})
        elif _stale(row.source_updated_at, command.updated_at) or _same(row, values):
            continue
        else:
            customer_id = row.id
            updates.append({"b_id": row.id, **values, "version": row.version + 1})
        written.append(customer_id)
    if inserts:
        await session.execute(insert(customers), inserts)
    if updates:
        await session.execute(
            update(customers).where(customers.c.tenant_id == tenant_id, customers.c.id == bindparam("b_id")), updates)
    if written:
        await _emit(uow, written)


async def _emit(uow: UnitOfWork, written: list[UUID]) -> None:
    rows = {r.id: r for r in (await uow.session.execute(
        select(customers).where(customers.c.tenant_id == uow.tenant_id, customers.c.id == any_(written)))).all()}
    await uow.emit_many((customer_payload(rows[customer_id]), customer_id) for customer_id in written)
