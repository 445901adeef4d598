import json
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from rapport_shared.bus import codec
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.contracts import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1


def issued(amount: str = "1200.50") -> InvoiceIssuedV1:
    return InvoiceIssuedV1(
        invoice_id=uuid4(), customer_id=uuid4(), number="INV-1", issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31), currency="EUR", amount_total=Decimal(amount),
        open_amount=Decimal(amount), status="open",
    )


def event(payload=None):
    payload = payload or issued()
    return make_event(payload, source="/test", tenant_id=uuid4(), customer_key=payload.customer_id)


def test_round_trip_keeps_money_exact_and_typed():
    env = event(issued("0.10"))
    decoded = codec.decode(codec.encode(env))
    assert decoded == env
    payload = decoded.payload()
    assert isinstance(payload, InvoiceIssuedV1)
    assert payload.amount_total == Decimal("0.10")
    assert json.loads(codec.encode(env))["data"]["amount_total"] == "0.10"


def test_key_groups_by_tenant_and_customer():
    env = event()
    assert codec.record_key(env) == f"{env.tenant_id}:{env.data['customer_id']}".encode()


@pytest.mark.parametrize("raw, reason", [
    (None, "empty"),
    (b"not json", "malformed envelope"),
    (b'{"type": "x"}', "malformed envelope"),
])
def test_garbage_is_poison_with_reason(raw, reason):
    with pytest.raises(PoisonMessage, match=reason):
        codec.decode(raw)


def test_unknown_version_is_poison_naming_the_version():
    body = json.loads(codec.encode(event()))
    body["type"] = "rapport.invoice.issued.v9"
    with pytest.raises(PoisonMessage, match="unsupported version 9 of rapport.invoice.issued"):
        codec.decode(json.dumps(body).encode())


def test_unknown_type_is_poison():
    body = json.loads(codec.encode(event()))
    body["type"] = "rapport.nothing.here.v1"
    with pytest.raises(PoisonMessage, match="unknown event type"):
        codec.decode(json.dumps(body).encode())


def test_invalid_payload_is_poison_naming_the_field():
    body = json.loads(codec.encode(event()))
    body["data"]["currency"] = "euro"
    with pytest.raises(PoisonMessage, match="currency"):
        codec.decode(json.dumps(body).encode())


def test_caused_event_inherits_correlation():
    cause = event()
    effect = make_event(issued(), source="/test", tenant_id=cause.tenant_id, customer_key="c", causation=cause)
    assert effect.correlation_id == cause.correlation_id
    assert effect.causation_id == cause.id
    assert effect.id != cause.id
    assert effect.id.version == 7


def test_decode_validates_the_payload_once_and_hands_that_result_to_payload(monkeypatch):
    env = event(issued("12.30"))
    decoded = codec.decode(codec.encode(env))
    calls = []
    original = InvoiceIssuedV1.model_validate.__func__

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(InvoiceIssuedV1, "model_validate", classmethod(counting))
    first = decoded.payload()
    assert first is decoded.payload()
    assert first.amount_total == Decimal("12.30")
    assert calls == []  # validated in decode, not again
    # A built (not decoded) envelope still validates, and equality ignores the cache.
    assert env.payload() == first and calls == [1]
    assert decoded == env and env == decoded
    # A copy with other data is validated afresh, never answered from the old cache.
    changed = decoded.model_copy(update={"data": {**decoded.data, "number": "INV-2"}})
    assert changed.payload().number == "INV-2" and calls == [1, 1]
