"""Create every topic of the catalogue (idempotent)."""
from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from rapport_shared.contracts.catalogue import TopicNames, all_topics


async def create_topics(bootstrap: str, prefix: str = "") -> list[str]:
    names = TopicNames(prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(names(spec.name), spec.partitions, 1, topic_configs={"retention.ms": str(spec.retention_ms)})
            for spec in all_topics()
            if names(spec.name) not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted, timeout_ms=15000)
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> None:
    if not prefix:
        raise ValueError("refusing to delete unprefixed topics")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine, timeout_ms=15000)
    finally:
        await admin.close()
