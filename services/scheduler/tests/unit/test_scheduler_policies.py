"""Policy validation and selection: contradictions named by step, overlaps need priorities, overrides win."""
from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from rapport_scheduler.domain.errors import InvalidPolicy
from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import (
    DEFAULT_POLICY, NonResponder, Policy, PolicySpec, Segment, Step, check_overlaps, check_spec, segments_overlap,
)
from rapport_scheduler.domain.selection import select_policy


def spec(*steps: Step, **kw) -> PolicySpec:
    return PolicySpec(name=kw.pop("name", "p"), steps=list(steps) or [Step(offset_days=0, channel="email", template_key="due_today")], **kw)


@pytest.mark.parametrize("bad, field", [
    (spec(Step(offset_days=0, channel="email", template_key="due_today", tone="shouty")), "steps[0].tone"),
    (spec(Step(offset_days=0, channel="internal", tone="final")), "steps[0].audience"),
    (spec(Step(offset_days=0, channel="internal", audience=["ceo"])), "steps[0].audience"),
    (spec(Step(offset_days=0, channel="email", template_key="due_today", risk_bands=["Z"])), "steps[0].risk_bands"),
    (spec(Step(offset_days=0, channel="email", template_key="due_today", fallback_channel="call")), "steps[0].fallback_channel"),
    (spec(non_responder=NonResponder(template_key="hello")), "non_responder.template_key"),
    (spec(segment=Segment(min_balance=Decimal(10), max_balance=Decimal(5))), "segment.min_balance"),
])
def test_bad_policies_name_the_field(bad, field):
    with pytest.raises(InvalidPolicy) as error:
        check_spec(bad)
    assert error.value.field == field


def test_default_policy_is_valid():
    check_spec(DEFAULT_POLICY.spec)


def test_segments_overlap_only_when_every_dimension_can_match():
    assert segments_overlap(Segment(countries=["US"]), Segment(sizes=["small"]))
    assert not segments_overlap(Segment(countries=["US"]), Segment(countries=["DE"]))
    assert not segments_overlap(Segment(max_balance=Decimal(100)), Segment(min_balance=Decimal(101)))
    first, second = uuid4(), uuid4()
    check_overlaps(spec(priority=1), {first: spec(priority=2)})
    with pytest.raises(InvalidPolicy):
        check_overlaps(spec(priority=None), {first: spec(priority=2)})
    check_overlaps(spec(priority=3), {second: spec(priority=3)}, own_id=second)  # a policy never clashes with itself


def test_selection_prefers_override_then_priority_then_default():
    customer = Customer(uuid4(), "Co", country="US", risk_band="D", size="enterprise")
    risky = Policy(policy_id=uuid4(), version=1, spec=spec(priority=5, segment=Segment(risk_bands=["D", "E"])))
    big = Policy(policy_id=uuid4(), version=2, spec=spec(priority=9, segment=Segment(min_balance=Decimal(10_000))))
    other = Policy(policy_id=uuid4(), version=1, spec=spec(priority=1, segment=Segment(countries=["DE"])))
    assert select_policy([risky, big, other], customer, Decimal(50_000)) is big
    assert select_policy([risky, big, other], customer, Decimal(500)) is risky
    assert select_policy([risky, big, other], customer, Decimal(500), override=other.policy_id) is other
    assert select_policy([other], customer, Decimal(500)) is DEFAULT_POLICY
