"""The idempotent producer (acks=all) every publisher goes through."""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from rapport_shared.bus import codec
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.observability import EVENTS_PRODUCED

Headers = list[tuple[str, bytes]]


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
    """Publishes envelopes keyed by tenant and customer; every ``publish*`` returns once Kafka acked."""

    def __init__(self, producer: AIOKafkaProducer, service: str) -> None:
        self._producer = producer
        self._service = service

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self.publish_raw(topic, codec.record_key(envelope), codec.encode(envelope), codec.headers(envelope))

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers | None = None) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
        EVENTS_PRODUCED.labels(self._service, topic).inc()

    async def publish_many(self, records: Iterable[tuple[str, bytes | None, bytes]]) -> int:
        """Send a batch in order and wait for every acknowledgement; per-key order is kept."""
        return await self.publish_raws((topic, key, value, None) for topic, key, value in records)

    async def publish_raws(self, records: Iterable[tuple[str, bytes | None, bytes, Headers | None]]) -> int:
        """Enqueue every record first (the producer batches them with linger), then await all acks.

        ``send`` appends to the partition's batch in call order and the idempotent producer
        keeps that order on the wire, so per-key order holds without awaiting record by record.
        """
        futures, topics = [], Counter()
        for topic, key, value, headers in records:
            futures.append(await self._producer.send(topic, value=value, key=key, headers=headers))
            topics[topic] += 1
        # Every acknowledgement is awaited even when one fails, so none is left unobserved.
        failures = [r for r in await asyncio.gather(*futures, return_exceptions=True) if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        for topic, count in topics.items():
            EVENTS_PRODUCED.labels(self._service, topic).inc(count)
        return len(futures)
