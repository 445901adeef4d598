"""Payment-plan rules: a plan inside the tenant's limits is auto-approved, outside goes to a collector."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rapport_portal.domain.errors import Invalid

# Beyond these no plan is accepted at all, even for review: they are input mistakes, not negotiations.
HARD_MAX_INSTALMENTS = 36
HARD_MAX_DAYS = 3 * 365


@dataclass(frozen=True)
class PlanLimits:
    max_instalments: int
    max_days: int


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PlanDecision:
    auto_approved: bool
    reasons: list[str]


def check_plan(instalments: list[Instalment], balance: Decimal, today: date, limits: PlanLimits) -> PlanDecision:
    _check_shape(instalments, balance, today)
    reasons = []
    if len(instalments) > limits.max_instalments:
        reasons.append(f"{len(instalments)} instalments exceed the limit of {limits.max_instalments}")
    span = (instalments[-1].due_date - today).days
    if span > limits.max_days:
        reasons.append(f"last instalment {span} days out exceeds the limit of {limits.max_days}")
    return PlanDecision(auto_approved=not reasons, reasons=reasons)


def _check_shape(instalments: list[Instalment], balance: Decimal, today: date) -> None:
    if not instalments:
        raise Invalid("at least one instalment is required", "instalments")
    if len(instalments) > HARD_MAX_INSTALMENTS:
        raise Invalid(f"at most {HARD_MAX_INSTALMENTS} instalments", "instalments")
    for n, inst in enumerate(instalments):
        if inst.amount <= 0:
            raise Invalid("amount must be positive", f"instalments.{n}.amount")
        if inst.due_date < today:
            raise Invalid("due_date is in the past", f"instalments.{n}.due_date")
        if n and inst.due_date <= instalments[n - 1].due_date:
            raise Invalid("due dates must increase", f"instalments.{n}.due_date")
    if (instalments[-1].due_date - today).days > HARD_MAX_DAYS:
        raise Invalid(f"a plan cannot run past {HARD_MAX_DAYS} days", "instalments")
    total = sum((i.amount for i in instalments), Decimal("0"))
    if total != balance:
        raise Invalid(f"instalments add up to {total}, the invoices' open balance is {balance}", "instalments")


def equal_instalments(balance: Decimal, count: int, first_due: date, every_days: int, exponent: int) -> list[Instalment]:
    """Split a balance into ``count`` equal instalments; rounding goes on the last one so they add up."""
    if count < 1:
        raise Invalid("at least one instalment", "instalments")
    quantum = Decimal(1).scaleb(-exponent)
    share = (balance / count).quantize(quantum, rounding="ROUND_DOWN")
    amounts = [share] * (count - 1) + [balance - share * (count - 1)]
    return [Instalment(first_due + timedelta(days=every_days * n), a) for n, a in enumerate(amounts)]
