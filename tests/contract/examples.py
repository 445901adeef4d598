"""Loading the golden example events of ``shared/examples/`` in causal order."""
from __future__ import annotations

import json
from pathlib import Path

from rapport_shared.contracts.catalogue import TOPICS
from rapport_shared.contracts.envelope import Envelope

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"

# Within a topic, facts that others refer to come first (a customer before its contact,
# an invoice's issue before its changes), so a consumer meets them in a believable order.
_FIRST = ("upserted", "issued", "received", "due", "created", "sent", "customer_scored")


def _rank(path: Path) -> tuple[int, int, str]:
    event_type = path.name.removesuffix(".json")
    topic = event_type.split(".")[1]
    name = event_type.split(".")[2]
    topic_rank = [t.name for t in TOPICS].index(topic)
    name_rank = _FIRST.index(name) if name in _FIRST else len(_FIRST)
    return topic_rank, name_rank, event_type


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"), key=_rank)


def load(path: Path) -> Envelope:
    return Envelope.model_validate(json.loads(path.read_text()))


def examples_for(topics: tuple[str, ...]) -> list[Envelope]:
    """Every example of the given logical topics, topic order as in the catalogue."""
    return [load(p) for p in example_paths() if p.name.split(".")[1] in topics]
