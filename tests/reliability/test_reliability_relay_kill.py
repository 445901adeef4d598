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
from datetime import date, timedelta

import pytest

from harness import SliceDb, eventually
from harness.erp import Erp
from harness.kafka import read_all
from rapport_shared.bus import codec

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

INVOICES = 40
KILLS = 4
TINY_BATCHES = {"RAPPORT_RELAY_BATCH_SIZE": "3", "RAPPORT_RELAY_IDLE_POLL_S": "0.05"}


async def test_relay_sigkill_loses_and_doubles_nothing(stack, infra):
    db = SliceDb(infra)
    stack.stop("ingest", "relay")
    async with Erp(stack.url("ingest")) as erp:
        tenant = await erp.create_tenant("Relay Crash Test Ltd")
        await erp.customer("CRASH-01", "Crash Test Dummies GmbH", currency="EUR", country="DE", time_zone="Europe/Berlin")
        await erp.contact("CRASH-01", "CRASH-01-AP", "Dana Kraus", "ap@crash-dummies.example")
        numbers = [f"INV-KILL-{n:03d}" for n in range(INVOICES)]
        for number in numbers:
            await erp.invoice(number, "CRASH-01", issue=date(2027, 3, 2), due=date(2027, 4, 2) + timedelta(days=len(number) % 3),
                              amount="321.50")
    waiting = await db.scalar("SELECT count(*) FROM ingest.outbox WHERE convert_from(value, 'UTF8') LIKE :t", t=f"%{tenant}%")
    assert waiting >= INVOICES + 2, "the outbox rows should be committed and waiting for the relay"

    kills = 0
    for _ in range(KILLS):
        mark = len(stack.log_text("ingest", "relay"))
        stack.spawn("ingest", "relay", **TINY_BATCHES)
        await stack.wait_log("ingest", "relay", "outbox relay started", timeout=180, since=mark)
        await asyncio.sleep(random.uniform(0.05, 0.6))  # not an assertion: where in the drain the kill lands
        stack.kill("ingest", "relay", signal.SIGKILL)
        kills += 1
    left = await db.scalar("SELECT count(*) FROM ingest.outbox WHERE convert_from(value, 'UTF8') LIKE :t", t=f"%{tenant}%")
    print(f"\n{kills} SIGKILLs; {left} of {waiting} outbox rows of this tenant still waiting after them")
    await stack.start("ingest", "relay", timeout=180, **TINY_BATCHES)

    counts = {"scheduler": "SELECT count(*) FROM scheduler.invoices WHERE tenant_id = :t",
              "portal": "SELECT count(*) FROM portal.invoices WHERE tenant_id = :t"}
    for schema, sql in counts.items():
        await eventually(lambda sql=sql: db.scalar(sql, t=tenant), lambda n: n >= INVOICES, timeout=240,
                         what=f"{schema} read model has all {INVOICES} invoices")
    await eventually(lambda: db.scalar("SELECT count(*) FROM ingest.outbox WHERE convert_from(value, 'UTF8') LIKE :t",
                                       t=f"%{tenant}%"), lambda n: n == 0, timeout=120, what="outbox drained")

    for schema, sql in counts.items():
        assert await db.scalar(sql, t=tenant) == INVOICES, f"{schema} has an invoice more than once"
        rows = await db.rows(f"SELECT number FROM {schema}.invoices WHERE tenant_id = :t", t=tenant)
        assert sorted(r["number"] for r in rows) == numbers
    records = await read_all(infra.bootstrap, infra.topic("invoice"),
                             until=lambda rs: len({_id(r) for r in rs if tenant.encode() in r.value}) >= INVOICES)
    ids = Counter(_id(r) for r in records if tenant.encode() in r.value)
    print(f"invoice topic: {sum(ids.values())} records for {len(ids)} distinct events "
          f"({sum(ids.values()) - len(ids)} duplicates from the kills, absorbed by the inboxes)")
    assert len(ids) == INVOICES
    for schema in ("scheduler", "portal"):
        handled = await db.scalar(f"SELECT count(*) FROM {schema}.inbox WHERE event_id = ANY(:ids)", ids=list(ids))
        assert handled == INVOICES
    await db.close()


def _id(record) -> str:
    return str(codec.decode(record.value).id)
