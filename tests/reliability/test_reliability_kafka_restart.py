"""Kafka stops and comes back in the middle of the flow: nothing is lost, and every process recovers alone.

Runs on a private broker (scripts/kafka.sh with its own ports and state directory) and a
private database, never on the shared broker.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from harness import PrivateBroker, SliceDb, Stack, destroy_private_slice, eventually, private_slice
from harness.erp import Erp

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

BEFORE, DURING, AFTER = 10, 10, 10
WORKERS = [("ingest", "api"), ("ingest", "relay"), ("scheduler", "consumer"), ("portal-api", "consumer")]


@pytest.fixture
async def private_stack(infra, repo_root, log_dir, tmp_path):
    broker = PrivateBroker(repo_root, tmp_path / "kafka-state", log_dir / "private-kafka.log")
    broker.start()
    slice_ = await private_slice(repo_root, infra.admin_url, broker.bootstrap)
    stack = Stack(slice_, log_dir)
    try:
        stack.migrate("ingest", "scheduler", "portal-api")
        for service, proc in WORKERS:
            stack.spawn(service, proc)
        for service, proc in WORKERS:
            if proc == "api":
                await stack.wait_ready(service, timeout=240)
            else:
                await stack.wait_log(service, proc, "relay started" if proc == "relay" else "partitions assigned", timeout=240)
        yield stack, broker
    finally:
        stack.stop_all()
        try:
            await destroy_private_slice(slice_)
        finally:
            broker.stop()


async def test_kafka_restart_mid_flow_loses_nothing(private_stack):
    stack, broker = private_stack
    db = SliceDb(stack.infra)
    pids = {key: proc.popen.pid for key, proc in stack.procs.items()}
    async with Erp(stack.url("ingest")) as erp:
        tenant = await erp.create_tenant("Broker Outage Test")
        await erp.customer("OUT-01", "Outage Survivors SARL", currency="EUR", country="FR", time_zone="Europe/Paris")
        numbers = [f"INV-OUTAGE-{n:03d}" for n in range(BEFORE + DURING + AFTER)]
        post = lambda n: erp.invoice(n, "OUT-01", issue=date(2027, 3, 3), due=date(2027, 4, 3) + timedelta(days=1), amount="75.25")  # noqa: E731
        for number in numbers[:BEFORE]:
            await post(number)

        broker.stop()
        for number in numbers[BEFORE:BEFORE + DURING]:
            await post(number)  # the ledger commits; the events wait in the outbox
        ready = await stack.readyz("ingest")
        assert ready.status_code == 503 and ready.json()["checks"]["kafka"] != "ok", ready.text
        broker.start()

        for number in numbers[BEFORE + DURING:]:
            await post(number)

    for schema in ("scheduler", "portal"):
        rows = await eventually(lambda s=schema: db.rows(f"SELECT number FROM {s}.invoices WHERE tenant_id = :t", t=tenant),
                                lambda rs: len(rs) >= len(numbers), timeout=300,
                                what=f"{schema} read model has every invoice after the broker restart")
        assert sorted(r["number"] for r in rows) == numbers
    await stack.wait_ready("ingest", timeout=120)
    for key, pid in pids.items():
        assert stack.running(*key) and stack.procs[key].popen.pid == pid, f"{key} did not survive the outage by itself"
    await db.close()
