"""Long-running bus processes (relay, consumer) with the same start-up and shutdown manners."""
from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_shared.bus.consumer import ConsumerRunner, Handler, make_kafka_consumer
from rapport_shared.bus.inbox import Inbox
from rapport_shared.bus.outbox import OutboxRelay
from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.db import make_session_factory
from rapport_shared.observability import get_logger
from rapport_shared.runtime import check_kafka, check_postgres, install_stop_signals, wait_for
from rapport_shared.settings import ServiceSettings

log = get_logger(__name__)


def serve_metrics(port: int | None) -> None:
    """Workers expose their own /metrics on a side port (0 or None: off)."""
    if port:
        start_http_server(port, addr="127.0.0.1")


async def wait_for_infra(settings: ServiceSettings, engine: AsyncEngine) -> None:
    await wait_for("Postgres", _safe_url(settings.database_url), lambda: check_postgres(engine), settings.startup_timeout_s)
    await wait_for("Kafka", settings.kafka_bootstrap, lambda: check_kafka(settings.kafka_bootstrap), settings.startup_timeout_s)


async def run_relay(settings: ServiceSettings, engine: AsyncEngine) -> None:
    await wait_for_infra(settings, engine)
    producer = EventProducer(make_kafka_producer(settings.kafka_bootstrap), settings.service_name)
    await producer.start()
    relay = OutboxRelay(
        engine, settings.db_schema, producer, settings.service_name,
        batch_size=settings.relay_batch_size, idle_poll_s=settings.relay_idle_poll_s,
    )
    install_stop_signals(relay.stop)
    log.info("outbox relay started", schema=settings.db_schema)
    try:
        await relay.run()
    finally:
        await producer.stop()
        log.info("outbox relay stopped")


async def run_consumer(
    settings: ServiceSettings, engine: AsyncEngine, topics: Sequence[str], handler: Handler,
    *, group: str | None = None,
) -> None:
    """Consume the logical ``topics`` with ``handler`` until SIGTERM."""
    await wait_for_infra(settings, engine)
    names = TopicNames(settings.topic_prefix)
    group_id = names(group or settings.service_name)
    dead_letters = EventProducer(make_kafka_producer(settings.kafka_bootstrap), settings.service_name)
    await dead_letters.start()
    runner = ConsumerRunner(
        consumer=make_kafka_consumer(settings.kafka_bootstrap, group_id),
        topics=[names(t) for t in topics],
        session_factory=make_session_factory(engine),
        handler=handler,
        inbox=Inbox(settings.db_schema, group or settings.service_name),
        dead_letters=dead_letters,
        dlq_topic=names.dlq(settings.service_name),
        service=settings.service_name,
        max_attempts=settings.consumer_max_attempts,
        batch_size=settings.consumer_batch_size,
        batch_bytes=settings.consumer_batch_bytes,
    )
    await runner.start()
    install_stop_signals(runner.stop)
    log.info("consumer started", topics=list(topics), group=group_id, batch_size=settings.consumer_batch_size)
    try:
        await runner.run()
    finally:
        await dead_letters.stop()
        log.info("consumer stopped", handled=runner.handled)


def _safe_url(url: str) -> str:
    """The URL without its password, for log lines."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
