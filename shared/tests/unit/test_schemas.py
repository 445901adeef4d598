import copy
from pathlib import Path

from rapport_shared.contracts import schemas

COMMITTED = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_are_up_to_date():
    assert schemas.load(COMMITTED) == schemas.generate(), "run `rapport-infra schemas` and commit shared/schemas"


def test_models_stay_compatible_with_committed_schemas():
    assert schemas.incompatibilities(schemas.load(COMMITTED), schemas.generate()) == []


def _payment_schema():
    return copy.deepcopy(schemas.generate()["rapport.payment.received.v1"])


def test_removed_field_is_incompatible():
    old = {"t": _payment_schema()}
    new = copy.deepcopy(old)
    del new["t"]["properties"]["reference"]
    assert schemas.incompatibilities(old, new) == ["t: field 'reference' was removed"]


def test_changed_type_is_incompatible():
    old = {"t": _payment_schema()}
    new = copy.deepcopy(old)
    new["t"]["properties"]["amount"] = {"type": "number"}
    assert schemas.incompatibilities(old, new) == ["t: field 'amount' changed type"]


def test_changed_nested_type_is_incompatible():
    old = {"t": _payment_schema()}
    new = copy.deepcopy(old)
    new["t"]["$defs"]["Allocation"]["properties"]["amount"] = {"type": "integer"}
    assert schemas.incompatibilities(old, new) == ["t#Allocation: field 'amount' changed type"]


def test_new_required_field_is_incompatible_but_optional_is_fine():
    old = {"t": _payment_schema()}
    optional = copy.deepcopy(old)
    optional["t"]["properties"]["note"] = {"type": "string"}
    assert schemas.incompatibilities(old, optional) == []
    required = copy.deepcopy(optional)
    required["t"]["required"].append("note")
    assert schemas.incompatibilities(old, required) == ["t: new field 'note' is required"]


def test_removed_event_type_is_incompatible():
    assert schemas.incompatibilities({"t": _payment_schema()}, {}) == ["t: event type was removed"]
