"""SIGKILL the ingest relay between the business commit and the publish: nothing is lost, nothing doubles.

The relay is stopped, invoices are posted (their outbox rows commit with the ledger rows),
then the relay is started and killed with SIGKILL again and again while it drains in tiny
batches, and finally left running. Every invoice must reach the scheduler's and the portal's
read models exactly once; copies on the topic are allowed and are counted.
"""
from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from datetime import date

import pytest

from harness import SliceDb, eventually
from harness.erp import Erp
from harness.kafka import read_all
from rapport_shared.bus import codec

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

INVOICES = 60
KILLS = 3
TINY_BATCHES = {"RAPPORT_RELAY_BATCH_SIZE": "2", "RAPPORT_RELAY_IDLE_POLL_S": "0.05"}


READ_MODELS = ("scheduler", "portal")
# Outbox rows whose bytes name the tenant (a bulk import's packed rows are binary, not text: no decoding).
WAITING = "SELECT count(*) FROM ingest.outbox WHERE position(convert_to(:t, 'UTF8') in value) > 0"


async def test_relay_sigkill_loses_and_doubles_nothing(stack, infra):
    db = SliceDb(infra)
    stack.stop("ingest", "relay")
    tenant, numbers = await _post_invoices(stack)
    waiting = await db.scalar(WAITING, t=tenant)
    assert waiting >= INVOICES + 2, "the outbox rows should be committed and waiting for the relay"

    kills = await _kill_while_draining(stack, db, tenant)
    left = await db.scalar(WAITING, t=tenant)
    print(f"\n{kills} SIGKILLs mid-drain; {left} of {waiting} outbox rows of this tenant still waiting after them")
    await stack.start("ingest", "relay", timeout=180, **TINY_BATCHES)

    for schema in READ_MODELS:
        await eventually(lambda s=schema: _numbers(db, s, tenant), lambda found: len(found) >= INVOICES, timeout=240,
                         what=f"{schema} read model has all {INVOICES} invoices")
    await eventually(lambda: db.scalar(WAITING, t=tenant), lambda n: n == 0, timeout=120, what="outbox drained")
    for schema in READ_MODELS:
        assert await _numbers(db, schema, tenant) == numbers, f"{schema} lost or doubled an invoice"
    await _count_copies_on_the_topic(infra, db, tenant)
    await db.close()
    await stack.restart_with("ingest", "relay")


async def _post_invoices(stack) -> tuple[str, list[str]]:
    async with Erp(stack.url("ingest")) as erp:
        tenant = await erp.create_tenant("Relay Crash Test Ltd")
        await erp.customer("CRASH-01", "Crash Test Dummies GmbH", currency="EUR", country="DE", time_zone="Europe/Berlin")
        await erp.contact("CRASH-01", "CRASH-01-AP", "Dana Kraus", "ap@crash-dummies.example")
        numbers = [f"INV-KILL-{n:03d}" for n in range(INVOICES)]
        for number in numbers:
            await erp.invoice(number, "CRASH-01", issue=date(2027, 3, 2), due=date(2027, 4, 2), amount="321.50")
    return tenant, numbers


async def _kill_while_draining(stack, db: SliceDb, tenant: str) -> int:
    """Start the relay and SIGKILL it as soon as it has published part of the backlog, again and again."""
    kills = 0
    for _ in range(KILLS):
        before = await db.scalar(WAITING, t=tenant)
        if before == 0:
            break
        stack.spawn("ingest", "relay", **TINY_BATCHES)
        # Not an assertion: poll the backlog so the kill lands in the middle of the drain.
        while stack.running("ingest", "relay") and await db.scalar(WAITING, t=tenant) >= before:
            await asyncio.sleep(0.01)
        await asyncio.sleep(random.uniform(0.0, 0.05))
        stack.kill("ingest", "relay", signal.SIGKILL)
        kills += 1
    return kills


async def _numbers(db: SliceDb, schema: str, tenant: str) -> list[str]:
    rows = await db.rows(f"SELECT number FROM {schema}.invoices WHERE tenant_id = :t", t=tenant)
    return sorted(r["number"] for r in rows)


async def _count_copies_on_the_topic(infra, db: SliceDb, tenant: str) -> None:
    """Copies on the topic are allowed (a kill after publish, before delete); each inbox took one."""
    records = await read_all(infra.bootstrap, infra.topic("invoice"),
                             until=lambda rs: len({_id(r) for r in rs if tenant.encode() in r.value}) >= INVOICES)
    ids = Counter(_id(r) for r in records if tenant.encode() in r.value)
    print(f"invoice topic: {sum(ids.values())} records for {len(ids)} distinct events "
          f"({sum(ids.values()) - len(ids)} duplicates from the kills, absorbed by the inboxes)")
    assert len(ids) == INVOICES
    for schema in READ_MODELS:
        handled = await db.scalar(f"SELECT count(*) FROM {schema}.inbox WHERE event_id = ANY(:ids)", ids=list(ids))
        assert handled == INVOICES


def _id(record) -> str:
    return str(codec.decode(record.value).id)
