"""Ranking the worklist by expected value, with the reason a collector sees."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Probability-like weight of not being paid without a human, per risk band.
RISK_WEIGHT = {"A": 0.2, "B": 0.35, "C": 0.5, "D": 0.7, "E": 0.9, None: 0.5}


@dataclass(frozen=True)
class Ranking:
    score: float
    reason: str


def expected_value(open_balance: Decimal, risk_band: str | None, days_past_due: int, broken_promises: int) -> Ranking:
    """open balance × risk × days past due × (1 + broken promises)."""
    risk = RISK_WEIGHT.get(risk_band, 0.5)
    age = max(1, days_past_due)
    score = float(open_balance) * risk * age * (1 + broken_promises)
    reason = (f"{open_balance:,.2f} open × risk {risk_band or '?'} ({risk}) × {age} days past due"
              f" × {1 + broken_promises} (broken promises: {broken_promises})")
    return Ranking(round(score, 2), reason)
