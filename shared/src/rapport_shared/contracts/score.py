"""Topic ``score`` (emitted by scoring): risk annotations, emitted only on meaningful change."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload, Part

RiskBand = Literal["A", "B", "C", "D", "E"]


class AgingBuckets(Part):
    currency: CurrencyCode
    current: Amount = 0
    d1_30: Amount = 0
    d31_60: Amount = 0
    d61_90: Amount = 0
    d91_120: Amount = 0
    d120_plus: Amount = 0


class CustomerScoredV1(EventPayload):
    event_type: ClassVar[str] = "rapport.score.customer_scored.v1"
    topic: ClassVar[str] = "score"

    customer_id: UUID
    risk_band: RiskBand
    late_probability: float
    delinquency: Literal["none", "one_time", "chronic"] = "none"
    average_days_to_pay: float | None = None
    aging: list[AgingBuckets] = []
    model_version: str
    recommended_channel: str | None = None
    recommended_send_hour: int | None = None
    scored_at: datetime


class InvoiceScoredV1(EventPayload):
    event_type: ClassVar[str] = "rapport.score.invoice_scored.v1"
    topic: ClassVar[str] = "score"

    invoice_id: UUID
    customer_id: UUID
    late_probability: float
    predicted_pay_date: date
    pay_date_p10: date
    pay_date_p90: date
    model_version: str
    scored_at: datetime
