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
        """Send a batch (with headers) and wait for every acknowledgement; per-key order is kept."""
        return await (await self.enqueue_many(records))

    async def enqueue_many(self, records: Iterable[tuple]) -> asyncio.Future[int]:
        """Hand ``(topic, key, value[, headers])`` records to the producer in order, without awaiting acks.

        ``send`` appends to the partition's batch in call order and the idempotent producer
        keeps that order on the wire, so per-key order holds while the producer batches with
        linger. The returned future resolves to the count once every record is acknowledged,
        or raises the first failure.
        """
        futures, topics = [], Counter()
        for topic, key, value, *headers in records:
            futures.append(await self._producer.send(topic, value=value, key=key, headers=headers[0] if headers else None))
            topics[topic] += 1
        return asyncio.ensure_future(self._acknowledged(futures, topics))

    async def _acknowledged(self, futures: list[asyncio.Future], topics: Counter) -> int:
        await wait_all(futures)
        for topic, count in topics.items():
            EVENTS_PRODUCED.labels(self._service, topic).inc(count)
        return len(futures)


async def wait_all(futures: list[asyncio.Future]) -> None:
    """Wait for every future, then raise the first failure, so none is left unobserved."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
