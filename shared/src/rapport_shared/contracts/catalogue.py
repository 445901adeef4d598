"""The topic catalogue: every topic, its partitions and retention, and the dead-letter topics.

Created by ``rapport-infra topics``. Names get the deployment's ``RAPPORT_TOPIC_PREFIX``.
"""
from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    owner: str
    partitions: int = 6
    retention_ms: int = 30 * DAY_MS
    description: str = ""


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("customer", "ingest", retention_ms=-1, description="customers and contacts (compaction-friendly snapshots)"),
    TopicSpec("invoice", "ingest", retention_ms=-1, description="invoice and credit-note snapshots"),
    TopicSpec("payment", "ingest", retention_ms=-1, description="payments received, refunded, reversed"),
    TopicSpec("touchpoint", "scheduler", description="touchpoints due now"),
    TopicSpec("task", "scheduler", description="worklist tasks, dunning stages, case status"),
    TopicSpec("outreach", "outreach", description="message outcomes, replies, suppressions"),
    TopicSpec("score", "scoring", description="risk and payment predictions"),
    TopicSpec("portal", "portal-api", description="customer self-service requests"),
)

CONSUMERS: dict[str, tuple[str, ...]] = {
    "ingest": ("portal", "touchpoint", "task", "outreach", "score"),
    "scheduler": ("customer", "invoice", "payment", "score", "portal", "outreach"),
    "outreach": ("touchpoint", "customer", "portal"),
    "scoring": ("customer", "invoice", "payment", "outreach", "portal", "task"),
    "portal-api": ("customer", "invoice", "payment", "outreach", "task", "touchpoint"),
}

DLQ_RETENTION_MS = 90 * DAY_MS


def dlq_name(service: str) -> str:
    """Dead letters of one service's consumer."""
    return f"dlq.{service}"


def all_topics() -> tuple[TopicSpec, ...]:
    dead_letters = tuple(
        TopicSpec(dlq_name(s), s, partitions=1, retention_ms=DLQ_RETENTION_MS, description=f"poison messages seen by {s}")
        for s in CONSUMERS
    )
    return TOPICS + dead_letters


class TopicNames:
    """Resolves logical topic names to the deployment's physical names."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def __call__(self, logical: str) -> str:
        return f"{self.prefix}{logical}"

    def dlq(self, service: str) -> str:
        return self(dlq_name(service))
