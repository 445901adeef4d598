"""A service started while Postgres or Kafka is unreachable waits with a clear log line; /readyz says why."""
from __future__ import annotations

import json

import pytest

from harness import Stack, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.parametrize("missing", ["postgres", "kafka"])
async def test_service_waits_for_unreachable_dependency(infra, log_dir, missing):
    closed = free_port()
    env = ({"RAPPORT_DATABASE_URL": f"postgresql://rapport:rapport@127.0.0.1:{closed}/postgres"} if missing == "postgres"
           else {"RAPPORT_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed}"})
    stack = Stack(infra, log_dir, **env)
    try:
        stack.spawn("scoring", "consumer")
        stack.spawn("scoring", "api")
        name = {"postgres": "Postgres", "kafka": "Kafka"}[missing]
        line = json.loads(await stack.wait_log("scoring", "consumer", f"waiting for {name}", timeout=120))
        assert str(closed) in line["where"], line
        assert line["reason"], line
        # Still waiting, not crashed, after a few more attempts.
        await stack.wait_log("scoring", "consumer", f"waiting for {name}", timeout=60,
                             since=len(stack.log_text("scoring", "consumer")))
        assert stack.running("scoring", "consumer")

        response = await _readyz_answer(stack)
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks[missing] != "ok" and checks[missing], checks
        other = "kafka" if missing == "postgres" else "postgres"
        assert checks[other] == "ok", checks
    finally:
        stack.stop_all()


async def _readyz_answer(stack: Stack):
    from harness import eventually

    return await eventually(lambda: stack.readyz("scoring"), lambda r: r.status_code in (200, 503), timeout=120,
                            what="scoring /readyz answering")
