"""Dunning policies: which customers a policy covers and the steps it takes, relative to the due date."""
from __future__ import annotations

from datetime import time
from decimal import Decimal
from uuid import UUID, uuid5, NAMESPACE_URL

from pydantic import BaseModel, ConfigDict, Field

from rapport_scheduler.domain.catalogue import CHANNELS, INTERNAL_AUDIENCES, MESSAGE_CHANNELS, RISK_BANDS, TEMPLATE_KEYS, TONES
from rapport_scheduler.domain.errors import InvalidPolicy


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Segment(_Value):
    """Who a policy covers; an empty list means "any"."""

    countries: list[str] = []
    regions: list[str] = []
    industries: list[str] = []
    sizes: list[str] = []
    tags_any: list[str] = []
    risk_bands: list[str] = []
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None


class Step(_Value):
    offset_days: int = Field(description="days relative to the due date; negative is before it")
    channel: str
    template_key: str | None = None
    tone: str = "friendly"
    min_balance: Decimal | None = None
    risk_bands: list[str] = []
    fallback_channel: str | None = None
    audience: list[str] = []

    @property
    def stage(self) -> str:
        return f"d{self.offset_days:+d}" if self.offset_days else "due"


class Acceleration(_Value):
    """Bigger balances and riskier accounts start earlier: every step moves ``days`` sooner."""

    days: int = Field(ge=1, le=60)
    min_balance: Decimal | None = None
    risk_bands: list[str] = []


class NonResponder(_Value):
    after_days: int = Field(90, ge=1)
    every_days: int = Field(2, ge=1)
    template_key: str = "final_notice"
    tone: str = "final"
    channel: str = "email"
    call_task: bool = True


class QuietHours(_Value):
    """No message goes out from ``start`` (evening) until ``end`` (next morning), in the contact's time zone."""

    start: time = time(17, 0)
    end: time = time(9, 0)


class PolicySpec(_Value):
    name: str = Field(min_length=1, max_length=200)
    priority: int | None = None
    segment: Segment = Segment()
    steps: list[Step] = Field(min_length=1)
    accelerations: list[Acceleration] = []
    non_responder: NonResponder | None = None
    promise_grace_days: int = Field(3, ge=0, le=60)
    quiet_hours: QuietHours | None = None  # none: the tenant's quiet hours, else 17:00-09:00


class Policy(_Value):
    policy_id: UUID
    version: int
    spec: PolicySpec


def check_spec(spec: PolicySpec) -> None:
    """Reject a policy that could not be carried out, naming the first offending step."""
    previous: int | None = None
    tone_rank = -1
    for index, step in enumerate(spec.steps):
        where = f"steps[{index}]"
        _check_step(step, where)
        if previous is not None and step.offset_days <= previous:
            raise InvalidPolicy(f"offset {step.offset_days} is not after the previous step's {previous}; "
                                "steps must be in increasing offset order", f"{where}.offset_days")
        if TONES.index(step.tone) < tone_rank:
            raise InvalidPolicy(f"tone '{step.tone}' is softer than an earlier step; tone only firms up", f"{where}.tone")
        previous, tone_rank = step.offset_days, TONES.index(step.tone)
    _check_bands(spec.segment.risk_bands, "segment.risk_bands")
    if spec.non_responder:
        _check_template(spec.non_responder.template_key, "non_responder.template_key")
        _check_channel(spec.non_responder.channel, "non_responder.channel", messages_only=True)
        _check_tone(spec.non_responder.tone, "non_responder.tone")
    for index, rule in enumerate(spec.accelerations):
        _check_bands(rule.risk_bands, f"accelerations[{index}].risk_bands")
    if spec.quiet_hours is not None:
        check_quiet_hours(spec.quiet_hours, "quiet_hours")
    seg = spec.segment
    if seg.min_balance is not None and seg.max_balance is not None and seg.min_balance > seg.max_balance:
        raise InvalidPolicy("min_balance is above max_balance", "segment.min_balance")


def check_quiet_hours(quiet: QuietHours, field: str) -> None:
    """Quiet hours run overnight and leave at least an hour to send in."""
    if quiet.end >= quiet.start:
        raise InvalidPolicy(f"quiet hours run overnight: end ({quiet.end:%H:%M}) must be before start "
                            f"({quiet.start:%H:%M})", f"{field}.end")
    awake = (quiet.start.hour * 60 + quiet.start.minute) - (quiet.end.hour * 60 + quiet.end.minute)
    if awake < 60:
        raise InvalidPolicy("quiet hours leave less than an hour to send in", f"{field}.start")


def _check_step(step: Step, where: str) -> None:
    _check_channel(step.channel, f"{where}.channel")
    _check_tone(step.tone, f"{where}.tone")
    if step.channel in MESSAGE_CHANNELS and not step.template_key:
        raise InvalidPolicy(f"a {step.channel} step needs a template_key", f"{where}.template_key")
    if step.template_key is not None:
        _check_template(step.template_key, f"{where}.template_key")
    if step.fallback_channel is not None:
        _check_channel(step.fallback_channel, f"{where}.fallback_channel", messages_only=True)
    for who in step.audience:
        if who not in INTERNAL_AUDIENCES:
            raise InvalidPolicy(f"unknown audience '{who}' (known: {sorted(INTERNAL_AUDIENCES)})", f"{where}.audience")
    if step.channel == "internal" and not step.audience:
        raise InvalidPolicy("an internal step names its audience", f"{where}.audience")
    _check_bands(step.risk_bands, f"{where}.risk_bands")


def _check_channel(channel: str, field: str, *, messages_only: bool = False) -> None:
    allowed = MESSAGE_CHANNELS if messages_only else CHANNELS
    if channel not in allowed:
        raise InvalidPolicy(f"unknown channel '{channel}' (known: {sorted(allowed)})", field)


def _check_template(key: str, field: str) -> None:
    if key not in TEMPLATE_KEYS:
        raise InvalidPolicy(f"unknown template key '{key}' (outreach ships: {sorted(TEMPLATE_KEYS)})", field)


def _check_tone(tone: str, field: str) -> None:
    if tone not in TONES:
        raise InvalidPolicy(f"unknown tone '{tone}' (known: {list(TONES)})", field)


def _check_bands(bands: list[str], field: str) -> None:
    for band in bands:
        if band not in RISK_BANDS:
            raise InvalidPolicy(f"unknown risk band '{band}' (known: {list(RISK_BANDS)})", field)


def check_overlaps(spec: PolicySpec, others: dict[UUID, PolicySpec], own_id: UUID | None = None) -> None:
    """Two policies that can match one customer must have distinct priorities."""
    for other_id, other in others.items():
        if other_id == own_id or not segments_overlap(spec.segment, other.segment):
            continue
        if spec.priority is None or other.priority is None or spec.priority == other.priority:
            raise InvalidPolicy(f"segment overlaps policy '{other.name}' ({other_id}) and the two have no "
                                "distinct priority", "priority")


def segments_overlap(a: Segment, b: Segment) -> bool:
    for left, right in ((a.countries, b.countries), (a.regions, b.regions), (a.industries, b.industries),
                        (a.sizes, b.sizes), (a.risk_bands, b.risk_bands)):
        if left and right and not set(left) & set(right):
            return False
    if a.tags_any and b.tags_any and not set(a.tags_any) & set(b.tags_any):
        return False
    low = max(a.min_balance or Decimal("-Infinity"), b.min_balance or Decimal("-Infinity"))
    high = min(a.max_balance if a.max_balance is not None else Decimal("Infinity"),
               b.max_balance if b.max_balance is not None else Decimal("Infinity"))
    return low <= high


DEFAULT_POLICY_ID = uuid5(NAMESPACE_URL, "rapport:scheduler:default-policy")
DEFAULT_POLICY = Policy(policy_id=DEFAULT_POLICY_ID, version=1, spec=PolicySpec(
    name="Default relationship-first cadence",
    priority=None,
    steps=[
        Step(offset_days=-3, channel="email", template_key="pre_due_friendly", tone="friendly"),
        Step(offset_days=0, channel="email", template_key="due_today", tone="friendly"),
        Step(offset_days=7, channel="email", template_key="overdue_gentle", tone="neutral"),
        Step(offset_days=30, channel="email", template_key="overdue_firm", tone="firm", fallback_channel="sms"),
        Step(offset_days=45, channel="call", tone="firm"),
        Step(offset_days=60, channel="email", template_key="final_notice", tone="final", fallback_channel="sms"),
        Step(offset_days=90, channel="internal", tone="final", audience=["account_executive", "cfo"]),
        Step(offset_days=120, channel="agency", tone="final", min_balance=Decimal("500")),
    ],
    accelerations=[Acceleration(days=3, risk_bands=["D", "E"]), Acceleration(days=2, min_balance=Decimal("50000"))],
    non_responder=NonResponder(),
))
