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


class CompiledSegment:
    """A segment prepared once for matching many customers: its lists as frozensets, empty ones left out."""

    __slots__ = ("segment", "checks", "tags", "low", "high")

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.checks = tuple((attribute, frozenset(allowed)) for attribute, allowed in (
            ("country", segment.countries), ("region", segment.regions), ("industry", segment.industries),
            ("size", segment.sizes), ("risk_band", segment.risk_bands)) if allowed)
        self.tags = frozenset(segment.tags_any)
        self.low, self.high = segment.min_balance, segment.max_balance

    def matches(self, customer: Customer, balance: Decimal) -> bool:
        for attribute, allowed in self.checks:
            if getattr(customer, attribute) not in allowed:
                return False
        if self.tags and self.tags.isdisjoint(customer.tags):
            return False
        if self.low is not None and balance < self.low:
            return False
        return self.high is None or balance <= self.high


_compiled: dict[int, CompiledSegment] = {}


def compiled(segment: Segment) -> CompiledSegment:
    entry = _compiled.get(id(segment))
    if entry is None or entry.segment is not segment:  # the entry holds its segment: its id is not reused
        if len(_compiled) > 4096:
            _compiled.clear()
        entry = _compiled[id(segment)] = CompiledSegment(segment)
    return entry


def select_policy(policies: list[Policy], customer: Customer, balance: Decimal,
                  override: UUID | None = None) -> Policy:
    if override is not None:
        chosen = next((p for p in policies if p.policy_id == override), None)
        if chosen is not None:
            return chosen
    candidates = [p for p in policies if compiled(p.spec.segment).matches(customer, balance)]
    if not candidates:
        return DEFAULT_POLICY
    return max(candidates, key=lambda p: p.spec.priority if p.spec.priority is not None else -10**9)
