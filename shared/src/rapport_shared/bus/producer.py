"""The idempotent producer (acks=all) every publisher goes through."""
from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from rapport_shared.bus import codec
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.observability import EVENTS_PRODUCED


def make_kafka_producer(bootstrap: str, *, linger_ms: int = 5) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=30000,
    )


class EventProducer:
    """Publishes envelopes keyed by tenant and customer; ``publish`` returns once Kafka acked."""

    def __init__(self, producer: AIOKafkaProducer, service: str) -> None:
        self._producer = producer
        self._service = service

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self.publish_raw(topic, codec.record_key(envelope), codec.encode(envelope), codec.headers(envelope))

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
        EVENTS_PRODUCED.labels(self._service, topic).inc()

    async def publish_many(self, records: Iterable[tuple[str, bytes | None, bytes]]) -> int:
        """Send a batch in order and wait for every acknowledgement; per-key order is kept."""
        futures = [
            (topic, await self._producer.send(topic, value=value, key=key)) for topic, key, value in records
        ]
        for topic, future in futures:
            await future
            EVENTS_PRODUCED.labels(self._service, topic).inc()
        return len(futures)
