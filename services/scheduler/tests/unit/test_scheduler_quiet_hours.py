"""Quiet hours: validated, honoured by the engine's send window, and shown on the touchpoint."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import pytest

from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import decide
from rapport_scheduler.domain.errors import InvalidPolicy
from rapport_scheduler.domain.model import Contact, Customer, Invoice
from rapport_scheduler.domain.policy import DEFAULT_POLICY, Policy, QuietHours, check_spec
from rapport_scheduler.service_layer import messages

WED = date(2026, 3, 4)


def _portfolio(tz: str = "America/New_York"):
    contact = Contact(uuid4(), "Ann", email="ap@example.com", is_primary=True, time_zone=tz)
    customer = Customer(uuid4(), "Acme", country="US", contacts=[contact])
    inv = Invoice(uuid4(), "INV-1", WED - timedelta(days=40), WED - timedelta(days=8), "USD", Decimal("500"),
                  Decimal("500"))
    return customer, [inv]


def _with_quiet(start: time, end: time) -> Policy:
    spec = DEFAULT_POLICY.spec.model_copy(update={"quiet_hours": QuietHours(start=start, end=end)})
    return Policy(policy_id=uuid4(), version=1, spec=spec)


@pytest.mark.parametrize(("start", "end", "field"), [
    (time(9, 0), time(17, 0), "quiet_hours.end"),     # a daytime "night"
    (time(8, 0), time(7, 30), "quiet_hours.start"),   # half an hour left to send in
])
def test_quiet_hours_that_cannot_work_are_rejected_naming_the_field(start, end, field):
    with pytest.raises(InvalidPolicy) as caught:
        check_spec(_with_quiet(start, end).spec)
    assert caught.value.field == field


def test_policy_quiet_hours_shape_the_send_window_in_the_contacts_zone():
    customer, invoices = _portfolio()
    policy = _with_quiet(time(19, 30), time(7, 15))
    early = datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)  # 06:00 in New York: still quiet
    decision = decide(customer, invoices, [], policy, early, SendCalendar.quiet(time(19, 30), time(7, 15)))
    window = decision.touch.window
    assert (window.start.hour, window.start.minute) == (7, 15) and (window.end.hour, window.end.minute) == (19, 30)
    assert window.start.utcoffset() == timedelta(hours=-5)
    payload = messages.touchpoint(uuid4(), customer, decision.touch, policy, decision.today, early)
    assert (payload.quiet_hours_start, payload.quiet_hours_end) == (time(19, 30), time(7, 15))


def test_default_calendar_keeps_nine_to_five():
    customer, invoices = _portfolio("UTC")
    decision = decide(customer, invoices, [], DEFAULT_POLICY, datetime(2026, 3, 4, 18, 0, tzinfo=timezone.utc))
    assert decision.touch.window.start == datetime(2026, 3, 5, 9, 0, tzinfo=decision.touch.window.start.tzinfo)
    assert decision.touch.quiet_hours == (time(17, 0), time(9, 0))
