"""Every event type known to the platform, by its CloudEvents ``type``."""
from __future__ import annotations

import re

from rapport_shared.contracts import customer, invoice, outreach, payment, portal, score, task, touchpoint
from rapport_shared.contracts.base import EventPayload

_MODULES = (customer, invoice, payment, touchpoint, task, outreach, score, portal)
_TYPE_PATTERN = re.compile(r"^rapport\.(?P<topic>[a-z_]+)\.(?P<name>[a-z_]+)\.v(?P<version>\d+)$")


class UnknownEventType(LookupError):
    """The ``type`` names no event this build knows (maybe a newer version)."""


def _collect() -> dict[str, type[EventPayload]]:
    found: dict[str, type[EventPayload]] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, EventPayload) and value.event_type:
                if value.__module__ == module.__name__:
                    found[value.event_type] = value
    return found


REGISTRY: dict[str, type[EventPayload]] = _collect()


def payload_class(event_type: str) -> type[EventPayload]:
    try:
        return REGISTRY[event_type]
    except KeyError:
        match = _TYPE_PATTERN.match(event_type)
        if match and any(t.startswith(f"rapport.{match['topic']}.{match['name']}.v") for t in REGISTRY):
            raise UnknownEventType(
                f"unsupported version {match['version']} of rapport.{match['topic']}.{match['name']}"
            ) from None
        raise UnknownEventType(f"unknown event type {event_type!r}") from None
