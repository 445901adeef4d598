"""Bytes on the wire <-> envelopes, with errors that say what is wrong."""
from __future__ import annotations

import json

from pydantic import ValidationError

from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.registry import UnknownEventType, payload_class


class PoisonMessage(ValueError):
    """A record that can never be processed; it goes to the dead-letter topic with this reason."""


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes | None) -> Envelope:
    """Parse and validate the envelope and its payload; raise :class:`PoisonMessage` if impossible."""
    if raw is None:
        raise PoisonMessage("empty record value")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise PoisonMessage(f"malformed envelope: {_first_error(exc)}") from None
    try:
        payload = payload_class(envelope.type).model_validate(envelope.data)
    except UnknownEventType as exc:
        raise PoisonMessage(str(exc)) from None
    except ValidationError as exc:
        raise PoisonMessage(f"invalid {envelope.type} payload: {_first_error(exc)}") from None
    envelope.remember_payload(payload)  # handlers' envelope.payload() does not validate it again
    return envelope


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "value"
    return f"{where}: {err.get('msg')}" if where else err.get("msg", "invalid")


def record_key(envelope: Envelope) -> bytes:
    return envelope.partitionkey.encode()


def headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """CloudEvents binary-mode style headers, so tools can route without parsing the body."""
    return [
        ("ce_type", envelope.type.encode()),
        ("ce_id", str(envelope.id).encode()),
        ("tenant_id", str(envelope.tenant_id).encode()),
        ("correlation_id", str(envelope.correlation_id).encode()),
    ]


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode()
