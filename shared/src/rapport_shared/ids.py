"""Identifiers: UUIDv7 (time-ordered) for events and rows."""
from uuid import UUID

import uuid6


def new_id() -> UUID:
    """A fresh UUIDv7 as a standard-library UUID."""
    return UUID(bytes=uuid6.uuid7().bytes)
