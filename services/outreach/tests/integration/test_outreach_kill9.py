"""kill -9 of the consumer and the sender mid-batch: no touchpoint is lost, none is sent twice."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from rapport_shared.bus import codec
from rapport_shared.bus.producer import EventProducer, make_kafka_producer

from rapport_outreach.adapters.orm import messages, outbox
from rapport_outreach.testing.provider_fakes import SendGridFake

pytestmark = pytest.mark.integration
TOUCHPOINTS = 60


def _start(infra, command: str, env: dict, log_dir) -> subprocess.Popen:
    binary = str(infra.repo_root / ".venv" / "bin" / "rapport-outreach")
    log = open(log_dir / f"{command}-{uuid.uuid4().hex[:6]}.log", "w")
    return subprocess.Popen([binary, command], env=env, stdout=log, stderr=subprocess.STDOUT)


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


async def _wait(predicate, timeout: float, what: str) -> None:
    for _ in range(int(timeout / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_kill_minus_nine_mid_batch_loses_nothing_and_sends_nothing_twice(
        infra, outreach_settings, sessions, sendgrid_fake, make_touchpoint, make_envelope, tmp_path) -> None:
    tenant = uuid.uuid4()
    sendgrid_fake.latency_s = 0.15  # keeps a batch in flight long enough to be cut in half
    env = infra.env(RAPPORT_OUTREACH_EMAIL_PROVIDER="sendgrid", RAPPORT_OUTREACH_SENDGRID_API_KEY=SendGridFake.api_key,
                    RAPPORT_OUTREACH_SENDGRID_BASE_URL=sendgrid_fake.url, RAPPORT_OUTREACH_SENDER_BATCH_SIZE="20",
                    RAPPORT_OUTREACH_SENDER_CONCURRENCY="8", RAPPORT_OUTREACH_SINK_DIR=str(tmp_path / "sink"),
                    RAPPORT_OUTREACH_PROVIDER_TIMEOUT_S="5")
    touchpoints = [make_touchpoint() for _ in range(TOUCHPOINTS)]
    ids = [tp.touchpoint_id for tp in touchpoints]
    consumer, sender = _start(infra, "consumer", env, tmp_path), _start(infra, "sender", env, tmp_path)
    try:
        producer = EventProducer(make_kafka_producer(infra.bootstrap), "scheduler")
        await producer.start()
        await producer.publish_many((infra.topic("touchpoint"), codec.record_key(e), codec.encode(e))
                                    for e in (make_envelope(tp, tenant) for tp in touchpoints))
        await producer.stop()

        async def some_sent() -> bool:
            return len(sendgrid_fake.accepted) >= 15
        await _wait(some_sent, 120, "the first sends")
        _kill(sender), _kill(consumer)
        in_flight_at_kill = len(sendgrid_fake.seen)
        consumer, sender = _start(infra, "consumer", env, tmp_path), _start(infra, "sender", env, tmp_path)

        async def all_settled() -> bool:
            async with sessions() as session:
                rows = (await session.execute(select(messages.c.state).where(messages.c.touchpoint_id.in_(ids)))).all()
            return len(rows) == TOUCHPOINTS and all(r.state in ("sent", "uncertain") for r in rows)
        await _wait(all_settled, 120, "every touchpoint to end sent or uncertain")
    finally:
        for process in (consumer, sender):
            process.terminate()
            process.wait(timeout=15)

    async with sessions() as session:
        rows = (await session.execute(select(messages).where(messages.c.touchpoint_id.in_(ids)))).all()
        uncertain_events = (await session.execute(select(func.count()).select_from(outbox).where(
            outbox.c.event_type == "rapport.outreach.uncertain.v1"))).scalar_one()
    per_message = Counter(r["message_id"] for r in sendgrid_fake.seen)
    per_address = Counter(r["body"]["personalizations"][0]["to"][0]["email"] for r in sendgrid_fake.seen)
    states = Counter(r.state for r in rows)
    assert sendgrid_fake.invalid == []
    assert max(per_message.values()) == 1 and max(per_address.values()) == 1, "a message reached the provider twice"
    assert sorted(r.touchpoint_id for r in rows) == sorted(ids), "a touchpoint was lost"
    assert states["uncertain"] >= 1 and states["sent"] + states["uncertain"] == TOUCHPOINTS
    assert uncertain_events >= states["uncertain"]
    sent_ids = {str(r.id) for r in rows if r.state == "sent"}
    assert sent_ids <= set(per_message), "a message recorded as sent never reached the provider"
    assert in_flight_at_kill < TOUCHPOINTS
