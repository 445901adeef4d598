"""Risk bands, delinquency type, and the rule for when a new score is worth announcing."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

BAND_UPPER = (("A", 0.15), ("B", 0.30), ("C", 0.50), ("D", 0.70))
CHRONIC_WINDOW = 6
CHRONIC_SHARE = 0.5
PROBABILITY_STEP = 0.10  # smaller moves are noise to a collector
PAY_DATE_STEP_DAYS = 3


def risk_band(late_probability: float) -> str:
    for band, upper in BAND_UPPER:
        if late_probability < upper:
            return band
    return "E"


def delinquency(days_late_history: Sequence[int], overdue_open: int) -> str:
    """Chronic: at least half of the last six settled invoices late (three at minimum).

    One-time: some lateness (settled late, or an invoice overdue now) without that pattern.
    """
    recent = list(days_late_history)[-CHRONIC_WINDOW:]
    late = sum(1 for d in recent if d > 0)
    if late >= 3 and late / len(recent) >= CHRONIC_SHARE:
        return "chronic"
    if late or overdue_open:
        return "one_time"
    return "none"


@dataclass(frozen=True)
class CustomerScore:
    risk_band: str
    late_probability: float
    delinquency: str
    average_days_to_pay: float | None
    recommended_channel: str | None
    recommended_send_hour: int | None


@dataclass(frozen=True)
class InvoiceScore:
    late_probability: float
    p10: date
    p50: date
    p90: date


def customer_changed(old: CustomerScore | None, new: CustomerScore) -> bool:
    if old is None:
        return True
    return (
        old.risk_band != new.risk_band
        or old.delinquency != new.delinquency
        or abs(old.late_probability - new.late_probability) >= PROBABILITY_STEP
        or old.recommended_channel != new.recommended_channel
        or old.recommended_send_hour != new.recommended_send_hour
    )


def invoice_changed(old: InvoiceScore | None, new: InvoiceScore) -> bool:
    if old is None:
        return True
    return (
        risk_band(old.late_probability) != risk_band(new.late_probability)
        or abs(old.late_probability - new.late_probability) >= PROBABILITY_STEP
        or abs((old.p50 - new.p50).days) >= PAY_DATE_STEP_DAYS
    )
