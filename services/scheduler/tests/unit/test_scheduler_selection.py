"""Policy selection: the compiled segment matcher the ticker uses agrees with the plain rule, case for case."""
from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from hypothesis import given, settings, strategies as st

from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import DEFAULT_POLICY, Policy, PolicySpec, Segment, Step
from rapport_scheduler.domain.selection import compiled, matches, select_policy

subset = lambda values: st.lists(st.sampled_from(values), unique=True)  # noqa: E731
maybe = lambda values: st.none() | st.sampled_from(values)  # noqa: E731
balances = st.sampled_from([Decimal(0), Decimal(100), Decimal("4999.99"), Decimal(5000), Decimal(9000)])
segments = st.builds(Segment, countries=subset(["US", "DE", "GB"]), regions=subset(["EMEA", "NA"]),
                     industries=subset(["retail", "saas"]), sizes=subset(["S", "M"]), tags_any=subset(["a", "b"]),
                     risk_bands=subset(["A", "C", "E"]), min_balance=maybe([Decimal(100)]),
                     max_balance=maybe([Decimal(5000)]))
customers = st.builds(lambda country, region, industry, size, tags, band: Customer(
    uuid4(), "Co", country=country, region=region, industry=industry, size=size, tags=tags, risk_band=band),
    maybe(["US", "DE"]), maybe(["EMEA", "NA"]), maybe(["retail", "saas"]), maybe(["S", "M"]), subset(["a", "b"]),
    maybe(["A", "C", "E"]))


@settings(max_examples=300, deadline=None)
@given(segment=segments, customer=customers, balance=balances)
def test_compiled_segment_matches_exactly_like_the_rule(segment, customer, balance):
    assert compiled(segment).matches(customer, balance) == matches(segment, customer, balance)


def test_highest_priority_match_wins_and_the_default_catches_the_rest():
    step = [Step(offset_days=0, channel="email", template_key="due_today")]
    us = Policy(policy_id=uuid4(), version=1, spec=PolicySpec(name="US", priority=1, segment=Segment(countries=["US"]),
                                                               steps=step))
    big_us = Policy(policy_id=uuid4(), version=2, spec=PolicySpec(
        name="big US", priority=5, segment=Segment(countries=["US"], min_balance=Decimal(10_000)), steps=step))
    customer = Customer(uuid4(), "Co", country="US")
    assert select_policy([us, big_us], customer, Decimal(50_000)) is big_us
    assert select_policy([us, big_us], customer, Decimal(500)) is us
    assert select_policy([us, big_us], Customer(uuid4(), "Co", country="DE"), Decimal(500)) is DEFAULT_POLICY
    assert select_policy([us, big_us], customer, Decimal(50_000), override=us.policy_id) is us
