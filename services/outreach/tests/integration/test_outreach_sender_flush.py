"""A slow provider call does not hold back the rest of its batch: answered messages are recorded meanwhile."""
from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from sqlalchemy import select

from rapport_outreach.adapters.orm import messages
from rapport_outreach.bootstrap import build_sender, make_handler
from rapport_outreach.service_layer.registry import ProviderRegistry

pytestmark = pytest.mark.integration


class _Gate:
    """Answers at once, except for one address whose call waits until the test opens the gate."""

    name = "gate"

    def __init__(self, slow_address: str) -> None:
        self.slow_address, self.open = slow_address, asyncio.Event()

    async def send(self, message) -> str:  # noqa: ANN001
        if message.to_address == self.slow_address:
            await self.open.wait()
        return f"gate-{message.message_id}"


async def _state(sessions, tp) -> str:
    async with sessions() as session:
        return (await session.execute(select(messages.c.state)
                                      .where(messages.c.touchpoint_id == tp.touchpoint_id))).scalar_one()


async def test_answered_messages_are_recorded_while_a_slow_call_is_still_open(
        outreach_settings, sessions, deps, make_touchpoint, make_envelope) -> None:
    slow, fast = make_touchpoint(), make_touchpoint()
    gate = _Gate(slow.recipient.email)
    gated = dataclasses.replace(deps, registry=ProviderRegistry({"gate": gate}, {"email": "gate", "sms": "gate"}))
    tenant = uuid.uuid4()
    async with sessions() as session, session.begin():
        for tp in (slow, fast):
            await make_handler(gated)(session, make_envelope(tp, tenant))
    run = asyncio.create_task(build_sender(outreach_settings, sessions, gated).run_once())
    for _ in range(600):  # polls until the fast one is recorded; bounded so a bug fails instead of hanging
        if await _state(sessions, fast) == "sent":
            break
        await asyncio.sleep(0.05)
    assert await _state(sessions, fast) == "sent"
    assert await _state(sessions, slow) == "sending" and not run.done()
    gate.open.set()
    await run
    assert await _state(sessions, slow) == "sent"
