"""The engine on hand-made portfolios: the cadence, consolidation, pauses and routing."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

from rapport_scheduler.domain.engine import apply, decide
from rapport_scheduler.domain.model import Contact, Customer, Instalment, Invoice, Plan
from rapport_scheduler.domain.policy import DEFAULT_POLICY


def customer(**kw) -> Customer:
    contact = Contact(uuid4(), "Ann Payable", email="ap@example.com", phone="+15550100", is_primary=True,
                      time_zone=kw.pop("tz", "UTC"))
    return Customer(uuid4(), "Acme", country="US", contacts=[contact], **kw)


def invoice(due: date, amount: str = "1000", currency: str = "USD", **kw) -> Invoice:
    return Invoice(uuid4(), f"INV-{uuid4().hex[:4]}", due - timedelta(days=30), due, currency,
                   Decimal(amount), Decimal(amount), **kw)


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


WED = date(2026, 3, 4)


def run_days(c: Customer, invs: list[Invoice], start: date, days: int, plans=None):
    sent = []
    for n in range(days):
        d = decide(c, invs, plans or [], DEFAULT_POLICY, at(start + timedelta(days=n), 1))
        apply(d, c, invs, plans or [])
        if d.touch:
            sent.append(d)
    return sent


def test_default_cadence_pre_due_due_and_overdue_steps_in_order():
    thu = WED + timedelta(days=1)
    c, inv = customer(), invoice(thu)
    sent = run_days(c, [inv], thu - timedelta(days=10), 50)
    assert [s.touch.template_key for s in sent][:4] == ["pre_due_friendly", "due_today", "overdue_gentle", "overdue_firm"]
    assert [s.touch.window.local_day for s in sent][:4] == [thu + timedelta(days=n) for n in (-3, 0, 7, 32)]  # +30 is a Saturday


def test_invoices_consolidate_into_one_touch_at_the_highest_stage():
    c = customer()
    old, new = invoice(WED - timedelta(days=7)), invoice(WED)
    d = decide(c, [old, new], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.template_key == "overdue_gentle"
    assert {i.invoice_id for i in d.touch.invoices} == {old.invoice_id, new.invoice_id}
    assert d.stages[new.invoice_id][0] == 0 and d.stages[old.invoice_id][0] == 7


def test_the_touch_says_each_listed_invoices_own_stage():
    c = customer()
    old, new = invoice(WED - timedelta(days=7)), invoice(WED)
    broken = invoice(WED - timedelta(days=10), promise_until=WED - timedelta(days=1))
    d = decide(c, [old, new], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.invoice_stages == {old.invoice_id: d.stages[old.invoice_id][1], new.invoice_id: d.stages[new.invoice_id][1]}
    assert d.touch.invoice_stages[old.invoice_id] == d.touch.stage != d.touch.invoice_stages[new.invoice_id]
    d = decide(c, [broken, new], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.invoice_stages == {broken.invoice_id: "broken_promise", new.invoice_id: d.stages[new.invoice_id][1]}


def test_missed_steps_collapse_into_the_one_that_applies_now():
    c, inv = customer(), invoice(WED - timedelta(days=40))
    d = decide(c, [inv], [], DEFAULT_POLICY, at(WED, 1))
    apply(d, c, [inv], [])
    assert d.touch.template_key == "overdue_firm"
    assert decide(c, [inv], [], DEFAULT_POLICY, at(WED + timedelta(days=1), 1)).touch is None


def test_paid_disputed_promised_and_held_invoices_are_not_chased():
    c = customer()
    paid = invoice(WED, status="paid")
    paid.open_amount = Decimal(0)
    disputed, promised = invoice(WED, disputed=True), invoice(WED, promise_until=WED + timedelta(days=5))
    assert decide(c, [paid, disputed, promised], [], DEFAULT_POLICY, at(WED, 1)).touch is None
    held = customer(hold=True)
    assert decide(held, [invoice(WED)], [], DEFAULT_POLICY, at(WED, 1)).touch is None


def test_broken_promise_escalates_and_creates_a_task():
    c, inv = customer(), invoice(WED - timedelta(days=10), promise_until=WED - timedelta(days=1))
    d = decide(c, [inv], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.template_key == "broken_promise" and d.broken_promises == [inv.invoice_id]
    assert [t.kind for t in d.tasks] == ["broken_promise"]


def test_weekend_decision_is_sent_in_the_monday_window_in_the_contacts_zone():
    c = customer(tz="America/New_York")
    saturday = date(2026, 3, 7)
    d = decide(c, [invoice(saturday)], [], DEFAULT_POLICY, at(saturday, 18))
    assert d.touch.window.local_day == date(2026, 3, 9)
    assert d.touch.window.start.hour == 9 and str(d.touch.window.start.tzinfo) == "America/New_York"


def test_holiday_is_skipped():
    c = customer()
    d = decide(c, [invoice(date(2026, 12, 25))], [], DEFAULT_POLICY, at(date(2026, 12, 25), 1))
    assert d.touch.window.local_day == date(2026, 12, 28)


def test_opted_out_channel_falls_back_and_preference_wins():
    c = customer()
    c.contacts[0].opted_out = frozenset({"email"})
    c.contacts[0].consent_sms = True
    d = decide(c, [invoice(WED)], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.channel == "sms"
    c.contacts[0].opted_out = frozenset({"email", "sms"})
    d = decide(c, [invoice(WED)], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch is None and d.tasks[0].kind == "bounced_contact"


def test_non_responder_gets_every_other_day_follow_up_with_call_task_until_they_reply():
    c, inv = customer(), invoice(WED - timedelta(days=130))
    inv.stage_offset = 120
    sent = run_days(c, [inv], WED, 6)
    assert [s.touch.window.local_day for s in sent] == [WED, WED + timedelta(days=2), WED + timedelta(days=5)]  # Sunday's lands Monday
    assert all(any(t.kind == "call" for t in s.tasks) for s in sent)
    c.replied_at = at(WED)
    assert decide(c, [inv], [], DEFAULT_POLICY, at(WED + timedelta(days=9), 1)).touch is None


def test_payment_plan_replaces_cadence_with_instalment_reminders():
    c = customer()
    plan_id = uuid4()
    inv = invoice(WED - timedelta(days=20), plan_id=plan_id)
    plan = Plan(plan_id, [inv.invoice_id], "USD", [Instalment(WED + timedelta(days=2), Decimal("500"))])
    d = decide(c, [inv], [plan], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.template_key == "plan_instalment" and d.touch.instalment == (WED + timedelta(days=2), Decimal("500"))
    apply(d, c, [inv], [plan])
    assert plan.instalments[0].reminded


def test_currencies_are_never_mixed_in_one_touch():
    c = customer()
    usd, eur = invoice(WED, currency="USD"), invoice(WED - timedelta(days=7), currency="EUR")
    d = decide(c, [usd, eur], [], DEFAULT_POLICY, at(WED, 1))
    assert {i.currency for i in d.touch.invoices} == {"EUR"}
    assert d.wake_at == at(WED + timedelta(days=1))


def test_risky_accounts_start_earlier():
    c = customer(risk_band="E")
    d = decide(c, [invoice(WED + timedelta(days=6))], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch.template_key == "pre_due_friendly"
    assert decide(customer(), [invoice(WED + timedelta(days=6))], [], DEFAULT_POLICY, at(WED, 1)).touch is None


def test_call_step_makes_a_task_not_a_message():
    c, inv = customer(), invoice(WED - timedelta(days=45))
    inv.stage_offset = 30
    d = decide(c, [inv], [], DEFAULT_POLICY, at(WED, 1))
    assert d.touch is None and d.tasks[0].kind == "call" and d.stages[inv.invoice_id][0] == 45
