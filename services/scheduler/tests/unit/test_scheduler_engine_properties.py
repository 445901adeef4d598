"""Property-based checks of the engine over random portfolios, event sequences and downtime."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

from hypothesis import HealthCheck, given, settings, strategies as st

from rapport_scheduler.domain.candidates import acceleration_days
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import apply, decide
from rapport_scheduler.domain.model import Contact, Customer, Invoice
from rapport_scheduler.domain.policy import DEFAULT_POLICY

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]

invoice_st = st.builds(
    lambda due, amount, cur: (due, Decimal(amount), cur),
    st.integers(-150, 60), st.integers(1, 90_000), st.sampled_from(["USD", "EUR"]),
)
event_st = st.tuples(st.integers(0, 7), st.sampled_from(["pay", "dispute", "promise", "reply", "resolve", "none"]))
tick_st = st.tuples(st.integers(1, 90), st.integers(0, 23))  # gap in days (long gaps = downtime), hour


def build(invoices, tz, country, band) -> tuple[Customer, list[Invoice]]:
    contact = Contact(uuid4(), "AP", email="ap@example.com", phone="+15550100", consent_sms=True,
                      is_primary=True, time_zone=tz)
    customer = Customer(uuid4(), "Co", country=country, risk_band=band, contacts=[contact])
    invs = [Invoice(uuid4(), f"I{n}", START.date(), START.date() + timedelta(days=due), cur, amt, amt)
            for n, (due, amt, cur) in enumerate(invoices)]
    return customer, invs


def mutate(event, customer: Customer, invoices: list[Invoice], now: datetime) -> None:
    index, kind = event
    if not invoices:
        return
    inv = invoices[index % len(invoices)]
    if kind == "pay":
        inv.open_amount, inv.status = Decimal(0), "paid"
    elif kind == "dispute":
        inv.disputed = True
    elif kind == "resolve":
        inv.disputed = False
    elif kind == "promise":
        inv.promise_until = now.date() + timedelta(days=10)
    elif kind == "reply":
        customer.replied_at = now


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    invoices=st.lists(invoice_st, min_size=1, max_size=6),
    ticks=st.lists(st.tuples(tick_st, event_st), min_size=1, max_size=60),
    tz=st.sampled_from(ZONES), country=st.sampled_from(["US", "DE", "GB", "JP", None]),
    band=st.sampled_from([None, "A", "C", "E"]),
)
def test_engine_invariants_hold_for_any_portfolio_and_history(invoices, ticks, tz, country, band):
    calendar = SendCalendar()
    customer, invs = build(invoices, tz, country, band)
    now, days_used, stages_sent = START, set(), {}
    for (gap, hour), event in ticks:
        now = (now + timedelta(days=gap if gap < 30 else gap * 3)).replace(hour=hour)
        mutate(event, customer, invs, now)
        paused = {i.invoice_id for i in invs if not i.in_cadence(calendar.local_today(now, tz))
                  and not (i.promise_until and i.is_open and not i.disputed)}
        decision = decide(customer, invs, [], DEFAULT_POLICY, now, calendar)
        touch = decision.touch
        apply(decision, customer, invs, [])
        if touch is None:
            continue
        # never two messages to one customer on one (local) day
        assert touch.window.local_day not in days_used
        days_used.add(touch.window.local_day)
        # never a paid, disputed or paused invoice
        assert not {i.invoice_id for i in touch.invoices} & paused
        assert all(i.is_open and not i.disputed for i in touch.invoices)
        # never outside the send window, never in the past
        assert touch.window.start >= now and touch.window.start < touch.window.end
        assert calendar.contains(touch.window.start, tz, country) and calendar.contains(touch.window.end, tz, country)
        assert len({i.currency for i in touch.invoices}) == 1
        # no flood after downtime: an invoice's stage only moves forward, skipped steps never replay
        for inv in touch.invoices:
            if touch.stage.startswith("d") or touch.stage == "due":
                offset = decision.stages.get(inv.invoice_id, (None,))[0]
                if offset is not None:
                    assert offset > stages_sent.get(inv.invoice_id, -10**6)
                    stages_sent[inv.invoice_id] = offset


@settings(max_examples=60, deadline=None)
@given(invoices=st.lists(invoice_st, min_size=1, max_size=8), downtime=st.integers(10, 400))
def test_after_downtime_one_message_at_the_stage_that_applies_now(invoices, downtime):
    customer, invs = build(invoices, "UTC", "US", None)
    now = START + timedelta(days=downtime)
    balance = customer.open_balance(invs)
    first = decide(customer, invs, [], DEFAULT_POLICY, now)
    apply(first, customer, invs, [])
    second = decide(customer, invs, [], DEFAULT_POLICY, now + timedelta(hours=1))
    assert second.touch is None  # the missed steps did not queue up behind the first
    for inv in invs:
        days = (now.date() - inv.due_date).days + acceleration_days(DEFAULT_POLICY.spec, customer, balance)
        reached = [s.offset_days for s in DEFAULT_POLICY.spec.steps
                   if s.offset_days <= days and (s.min_balance is None or inv.open_amount >= s.min_balance)]
        if first.touch and inv in first.touch.invoices and inv.invoice_id in first.stages:
            assert first.stages[inv.invoice_id][0] == max(reached)
