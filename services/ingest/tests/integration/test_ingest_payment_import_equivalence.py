"""The set-based payment import (``payment_import``) against the API's handler row by row
(``imports._one_by_one`` -> ``payments.record_payment``), on random portfolios and payment files:
the same rows done and failed, the same payments, allocations, invoice balances and versions, and
the same events in the same order (ids aside)."""
from __future__ import annotations

import json
import random
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.time import SystemClock

from rapport_ingest.bootstrap import make_outbox
from rapport_ingest.domain.commands import RecordPayment
from rapport_ingest.service_layer import imports, payment_import
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration


def portfolio(rng: random.Random, tag: str) -> list[tuple[str, str, str, str, str]]:
    """(customer, number, amount, due date, currency) of every invoice."""
    invoices = []
    for c in range(3):
        for i in range(rng.randint(4, 8)):
            currency = "EUR" if rng.random() < 0.1 else "USD"
            amount = f"{rng.choice([120, 250, 600, 1200, 2400])}.{rng.choice(['00', '50', '99'])}"
            invoices.append((f"{tag}C{c}", f"{tag}I{c}-{i}", amount, f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                             currency))
    return invoices


def payment_file(rng: random.Random, tag: str, invoices) -> list[dict]:
    rows: list[dict] = []
    for n in range(70):
        customer = rng.choice([f"{tag}C0", f"{tag}C1", f"{tag}C2"])
        own = [i for i in invoices if i[0] == customer]
        pick = rng.choice(own)
        row = {"external_id": f"{tag}P{n}", "customer_external_id": customer, "currency": "USD",
               "received_on": "2026-05-01", "amount": f"{rng.choice([10, 25, 50, 100, 120, 300])}.00"}
        kind = rng.random()
        if kind < 0.2:
            row["remittance_text"] = f"paying {pick[1]} and {rng.choice(own)[1]} thanks"
        elif kind < 0.35:
            row["amount"] = pick[2]  # an exact amount (perhaps already paid by then)
        elif kind < 0.5:
            first, second = rng.choice(own), rng.choice(own)  # may name one invoice twice
            row["allocations"] = [{"invoice_number": first[1], "amount": "20.00"},
                                  {"invoice_number": second[1], "amount": rng.choice(["5.00", "30.00", "2000.00"])}]
            row["amount"] = "60.00"
        elif kind < 0.55:
            row["currency"] = "EUR"
        elif kind < 0.6:
            row["customer_external_id"] = f"{tag}NOBODY"
        elif kind < 0.63:
            del row["customer_external_id"]
        elif kind < 0.7 and rows:
            row = dict(rng.choice(rows))  # the same payment again
        rows.append(row)
    return rows


async def seed(tenant, invoices) -> None:
    for customer in sorted({i[0] for i in invoices}):
        await tenant.customer(customer)
    for customer, number, amount, due, currency in invoices:
        await tenant.invoice(number, amount, customer=customer, due=due, currency=currency)


async def run(engine, settings, tenant_id: UUID, rows: list[dict], set_based: bool):
    # Commands as the API takes them: an import file's columns carry no explicit allocations, the API's
    # body does, and both paths must handle them (an invoice named twice included).
    commands, errors = [(n, RecordPayment.model_validate(row)) for n, row in enumerate(rows, start=1)], []
    async with engine.begin() as conn:
        uow = UnitOfWork(AsyncSession(bind=conn), tenant_id, make_outbox(settings), SystemClock())
        if set_based:
            done = await payment_import.import_payments(uow, commands, errors)
        else:
            done = await imports._one_by_one(uow, "payments", commands, errors)
        emitted = list(uow.emitted)
    return done, sorted(errors), emitted


async def ledger(engine, tenant_id: UUID):
    async with engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql), {"t": tenant_id})  # noqa: E731
        names = {r.id: r.external_id for r in await q("SELECT id, external_id FROM ingest.customers WHERE tenant_id = :t")}
        names |= {r.id: r.number for r in await q("SELECT id, number FROM ingest.invoices WHERE tenant_id = :t")}
        names |= {r.id: r.external_id for r in await q("SELECT id, external_id FROM ingest.payments WHERE tenant_id = :t")}
        pays = sorted(tuple(r) for r in await q(
            "SELECT external_id, amount, currency, unapplied_amount, match_rule, needs_review, review_reason, source"
            " FROM ingest.payments WHERE tenant_id = :t"))
        allocs = [(names[r.payment_id], names[r.invoice_id], r.kind, r.amount, r.rule) for r in await q(
            "SELECT payment_id, invoice_id, kind, amount, rule FROM ingest.allocations WHERE tenant_id = :t ORDER BY id")]
        invs = sorted((r.number, r.paid_amount, r.open_amount, r.status, r.version, r.paid_at is not None)
                      for r in await q("SELECT * FROM ingest.invoices WHERE tenant_id = :t"))
    return names, pays, allocs, invs


def as_json(data) -> dict:
    return json.loads(json.dumps(data, default=str))


def named(value, names: dict[str, str]):
    """``value`` with every id the ledger knows replaced by its number or external id (and when an
    invoice was paid by whether it was: the clock moves on between the two runs)."""
    if isinstance(value, dict):
        return {k: (v is not None) if k == "paid_at" else named(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [named(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_set_based_payment_import_decides_exactly_as_the_api_row_by_row(
        tenant, other_tenant, ingest_app, ingest_settings, seed_value):
    rng = random.Random(seed_value)
    invoices = portfolio(rng, f"S{seed_value}")
    rows = payment_file(rng, f"S{seed_value}", invoices)
    engine = ingest_app.state.engine
    one, other = UUID(tenant.tenant_id), UUID(other_tenant.tenant_id)
    await seed(tenant, invoices)
    await seed(other_tenant, invoices)
    if seed_value == 3:  # the other policy: what no rule matches stays unapplied
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE ingest.tenants SET cash_application_policy = 'unapplied'"
                                    " WHERE id = ANY(:ids)"), {"ids": [one, other]})
    by_api = await run(engine, ingest_settings, one, rows, set_based=False)
    by_set = await run(engine, ingest_settings, other, rows, set_based=True)
    assert by_set[:2] == by_api[:2]  # rows done, and every failed row with its field and reason
    assert by_api[1], "the file has failing rows"
    api_names, *api_ledger = await ledger(engine, one)
    set_names, *set_ledger = await ledger(engine, other)
    assert set_ledger == api_ledger
    pays, allocs, invs = set_ledger
    assert len(allocs) > 15 and any(p[4] == "remittance" for p in pays) and any(p[4] == "explicit" for p in pays)
    assert sum(1 for i in invs if i[3] == "paid") >= 3
    # Events: same types, same order, same content once ids are named.
    api_events = [(e.type, named(as_json(e.data), {str(k): v for k, v in api_names.items()})) for e in by_api[2]]
    set_events = [(e.type, named(as_json(e.data), {str(k): v for k, v in set_names.items()})) for e in by_set[2]]
    assert set_events == api_events
    # Each invoice's balance events count its versions up one at a time.
    versions: dict[str, list[int]] = {}
    for kind, data in set_events:
        if kind.endswith("balance_changed.v1"):
            versions.setdefault(data["number"], []).append(data["version"])
    assert all(v == list(range(v[0], v[0] + len(v))) for v in versions.values())
    assert Decimal(0) <= min(i[2] for i in invs)
