"""Every event type has a golden example, and every example is a valid event of its type."""
from __future__ import annotations

import json

import jsonschema
import pytest

from rapport_shared.bus import codec
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.registry import REGISTRY

from .examples import EXAMPLES, example_paths, load

SCHEMAS = EXAMPLES.parent / "schemas"


def test_every_registered_event_type_has_an_example():
    present = {p.name.removesuffix(".json") for p in example_paths()}
    assert sorted(set(REGISTRY) - present) == [], "event types without a golden example"
    assert sorted(present - set(REGISTRY)) == [], "examples of event types nobody registers"


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name.removesuffix(".json"))
def test_example_is_a_valid_envelope_of_its_type(path):
    envelope = load(path)
    model = REGISTRY[envelope.type]
    assert path.name == f"{envelope.type}.json"
    payload = envelope.payload()
    assert isinstance(payload, model)
    # Payloads ignore unknown fields, so a misspelt field would vanish silently: refuse it here.
    assert sorted(set(envelope.data) - set(model.model_fields)) == []
    assert envelope.partitionkey == f"{envelope.tenant_id}:{envelope.data.get('customer_id') or envelope.data['customer']['customer_id']}"
    assert envelope.source.endswith(("ingest", "scheduler", "outreach", "scoring", "portal-api"))


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name.removesuffix(".json"))
def test_example_survives_the_wire_and_matches_its_json_schema(path):
    envelope = load(path)
    assert codec.decode(codec.encode(envelope)) == envelope
    schema = json.loads((SCHEMAS / path.name).read_text())
    jsonschema.validate(envelope.data, schema)
    # Money travels as strings: a float anywhere in an amount would lose cents.
    assert [k for k, v in _walk(envelope.data) if isinstance(v, float) and ("amount" in k or "total" in k)] == []


def _walk(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value
