"""Which policy governs a customer: an override, else the highest-priority matching segment, else the default."""
from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import DEFAULT_POLICY, Policy, Segment


def matches(segment: Segment, customer: Customer, balance: Decimal) -> bool:
    checks = ((segment.countries, customer.country), (segment.regions, customer.region),
              (segment.industries, customer.industry), (segment.sizes, customer.size),
              (segment.risk_bands, customer.risk_band))
    if any(allowed and value not in allowed for allowed, value in checks):
        return False
    if segment.tags_any and not set(segment.tags_any) & set(customer.tags):
        return False
    if segment.min_balance is not None and balance < segment.min_balance:
        return False
    return segment.max_balance is None or balance <= segment.max_balance


def select_policy(policies: list[Policy], customer: Customer, balance: Decimal,
                  override: UUID | None = None) -> Policy:
    if override is not None:
        chosen = next((p for p in policies if p.policy_id == override), None)
        if chosen is not None:
            return chosen
    candidates = [p for p in policies if matches(p.spec.segment, customer, balance)]
    if not candidates:
        return DEFAULT_POLICY
    return max(candidates, key=lambda p: p.spec.priority if p.spec.priority is not None else -10**9)
