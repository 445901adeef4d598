"""The idempotent producer (acks=all) every publisher goes through."""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

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
        # topic -> (its partitions, partition of each key seen): the default partitioner hashes a
        # key with a pure-Python murmur2, and one customer's key recurs in every event it causes.
        self._partition_cache: dict[str, tuple[list[int], dict[bytes, int]]] = {}

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

        Records are grouped by topic partition (chosen exactly as ``send`` would: the producer's
        own partitioner over the topic's partitions) into one record batch per partition, built
        in call order and submitted with ``send_batch``; a batch that reaches the producer's
        ``max_batch_size`` is submitted and the next one started. The accumulator queues a
        partition's batches in submission order and the idempotent producer numbers and sends them
        in that order, so per-key order holds within a call and across calls. The returned future
        resolves to the count once every batch is acknowledged, or raises the first failure.
        """
        producer = self._producer
        groups: dict[tuple[str, int], list[tuple]] = {}
        partitioners: dict[str, object] = {}
        topics: Counter = Counter()
        for topic, key, value, *headers in records:
            partition_of = partitioners.get(topic)
            if partition_of is None:
                partition_of = partitioners[topic] = await self._partitioner(topic)
            part = partition_of(key)
            group = groups.get((topic, part))
            if group is None:
                group = groups[(topic, part)] = []
            group.append((key, value, headers[0] if headers and headers[0] else None))
        futures: list[asyncio.Future] = []
        try:
            for (topic, part), items in groups.items():
                batch = producer.create_batch()
                for key, value, headers in items:
                    if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                        futures.append(await producer.send_batch(batch, topic, partition=part))
                        batch = producer.create_batch()
                        batch.append(timestamp=None, key=key, value=value, headers=headers)  # the first always fits
                batch.close()  # nothing else may be appended through ``send``
                futures.append(await producer.send_batch(batch, topic, partition=part))
                topics[topic] += len(items)
        except BaseException:
            # The caller sends everything again; what was handed over still resolves, observed here.
            asyncio.ensure_future(asyncio.gather(*futures, return_exceptions=True))
            raise
        return asyncio.ensure_future(self._acknowledged(futures, topics))

    async def _partitioner(self, topic: str):
        """``key -> partition`` for ``topic``, identical to what ``send(topic, key=key)`` picks."""
        producer = self._producer
        await producer.partitions_for(topic)  # waits for the topic's metadata
        partitions = list(producer.client.cluster.partitions_for_topic(topic))  # as ``send`` lists them
        partitioner = producer._partitioner  # the one ``send`` uses (``partitioner=`` of the producer)

        def uncached(key: bytes | None) -> int:
            available = list(producer.client.cluster.available_partitions_for_topic(topic) or ())
            return partitioner(key, partitions, available)

        if type(partitioner) is not DefaultPartitioner:
            return uncached  # a custom partitioner may depend on more than the key
        cached = self._partition_cache.get(topic)
        if cached is None or cached[0] != partitions or len(cached[1]) > 200_000:
            cached = self._partition_cache[topic] = (partitions, {})
        known = cached[1]

        def partition_of(key: bytes | None) -> int:
            if key is None:
                return uncached(key)  # random among the available ones, as ``send`` does
            part = known.get(key)
            if part is None:
                part = known[key] = partitioner(key, partitions, [])
            return part

        return partition_of

    async def _acknowledged(self, futures: list[asyncio.Future], topics: Counter) -> int:
        """The number of records once every future (one per batch) is acknowledged."""
        await wait_all(futures)
        for topic, count in topics.items():
            EVENTS_PRODUCED.labels(self._service, topic).inc(count)
        return sum(topics.values())


async def wait_all(futures: list[asyncio.Future]) -> None:
    """Wait for every future, then raise the first failure, so none is left unobserved."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
