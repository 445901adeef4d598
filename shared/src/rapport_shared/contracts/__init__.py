"""Event contracts: the envelope, versioned payloads per topic, and the topic catalogue.

These modules are the only coupling between services. A payload may gain optional
fields; removing a field or changing its type needs a new version (``...V2``),
which ``tests/contract`` enforces against the JSON Schemas in ``shared/schemas``.
"""
from rapport_shared.contracts.base import EventPayload, Money
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.contracts.registry import REGISTRY, payload_class

__all__ = ["EventPayload", "Money", "Envelope", "make_event", "REGISTRY", "payload_class"]
