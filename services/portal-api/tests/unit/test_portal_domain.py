"""Domain rules of the portal: summary arithmetic, aging, statements, plan limits, money."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from rapport_portal.domain.account import OpenItem, aging_bucket, aging_table, summarise
from rapport_portal.domain.errors import Invalid
from rapport_portal.domain.money import to_minor_units
from rapport_portal.domain.plans import Instalment, PlanLimits, check_plan, equal_instalments
from rapport_portal.domain.statement import LedgerEntry, build_statement

TODAY = date(2026, 6, 15)
D = Decimal


def item(number: str, due_in: int, amount: str, currency: str = "EUR", status: str = "open") -> OpenItem:
    return OpenItem(uuid.uuid4(), number, TODAY + timedelta(days=due_in), currency, D(amount), status)


def test_summary_adds_up_due_and_overdue_per_currency_and_ignores_closed_invoices():
    items = [item("A", -5, "100.10"), item("B", 0, "50.05"), item("C", 20, "10"), item("D", -40, "999", status="paid"),
             item("E", -1, "7", currency="USD"), item("F", 3, "0", status="partially_paid")]
    s = summarise(items, {"EUR": D("12.50"), "GBP": D("0")}, TODAY)
    eur = next(t for t in s.totals if t.currency == "EUR")
    usd = next(t for t in s.totals if t.currency == "USD")
    assert (eur.total_due, eur.overdue, eur.credits_available) == (D("160.15"), D("100.10"), D("12.50"))
    assert (usd.total_due, usd.overdue, usd.credits_available) == (D("7"), D("7"), D("0"))
    assert [t.currency for t in s.totals] == ["EUR", "USD"]  # GBP has no credit and nothing due
    assert s.next_due.number == "B" and s.next_due.amount == D("50.05")  # due today is not overdue
    assert (s.open_invoices, s.overdue_invoices) == (4, 2)


def test_summary_of_nothing_due_has_no_next_due():
    s = summarise([item("A", -5, "10", status="paid")], {}, TODAY)
    assert s.totals == [] and s.next_due is None and s.open_invoices == 0


@pytest.mark.parametrize("days_late, bucket", [
    (-3, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, "120+"), (400, "120+"),
])
def test_aging_bucket_boundaries(days_late, bucket):
    assert aging_bucket(TODAY - timedelta(days=days_late), TODAY) == bucket


def test_aging_table_sums_open_amounts_per_bucket_with_every_bucket_present():
    table = aging_table([item("A", -10, "5"), item("B", -15, "6"), item("C", -200, "1"), item("D", 5, "2"),
                         item("E", -10, "100", status="paid")], TODAY)
    assert table["EUR"] == {"current": D("2"), "1-30": D("11"), "31-60": D("0"), "61-90": D("0"),
                            "91-120": D("0"), "120+": D("1")}


def test_statement_running_balance_opening_and_closing():
    entries = [
        LedgerEntry(date(2026, 1, 10), "invoice", "INV-1", debit=D("100")),
        LedgerEntry(date(2026, 2, 1), "payment", "PAY-1", credit=D("40")),
        LedgerEntry(date(2026, 3, 5), "invoice", "INV-2", debit=D("60.50")),
        LedgerEntry(date(2026, 3, 20), "credit_note", "CN-1", credit=D("10.50")),
        LedgerEntry(date(2026, 5, 1), "invoice", "INV-3", debit=D("1")),
    ]
    st = build_statement(entries, "EUR", date(2026, 2, 15), date(2026, 3, 31))
    assert st.opening_balance == D("60")
    assert [(line.entry.reference, line.balance) for line in st.lines] == [("INV-2", D("120.50")), ("CN-1", D("110.00"))]
    assert (st.total_debits, st.total_credits, st.closing_balance) == (D("60.50"), D("10.50"), D("110.00"))


def test_statement_refuses_a_reversed_period():
    with pytest.raises(ValueError):
        build_statement([], "EUR", date(2026, 3, 1), date(2026, 2, 1))


LIMITS = PlanLimits(max_instalments=3, max_days=90)


def plan(*parts: tuple[int, str]) -> list[Instalment]:
    return [Instalment(TODAY + timedelta(days=d), D(a)) for d, a in parts]


def test_plan_inside_limits_is_auto_approved():
    decision = check_plan(plan((10, "100"), (40, "100"), (70, "100.50")), D("300.50"), TODAY, LIMITS)
    assert decision.auto_approved and decision.reasons == []


def test_plan_outside_limits_goes_to_review_with_reasons():
    too_many = check_plan(plan((10, "1"), (20, "1"), (30, "1"), (40, "1")), D("4"), TODAY, LIMITS)
    too_long = check_plan(plan((10, "1"), (120, "1")), D("2"), TODAY, LIMITS)
    assert not too_many.auto_approved and "4 instalments exceed the limit of 3" in too_many.reasons[0]
    assert not too_long.auto_approved and "120 days" in too_long.reasons[0]


@pytest.mark.parametrize("parts, balance, field", [
    ((), "10", "instalments"),
    (((10, "5"), (20, "4")), "10", "instalments"),
    (((10, "5"), (5, "5")), "10", "instalments.1.due_date"),
    (((-1, "10"),), "10", "instalments.0.due_date"),
    (((10, "-1"), (20, "11")), "10", "instalments.0.amount"),
    (((2000, "10"),), "10", "instalments"),
])
def test_malformed_plans_are_refused_naming_the_field(parts, balance, field):
    with pytest.raises(Invalid) as err:
        check_plan(plan(*parts), D(balance), TODAY, LIMITS)
    assert err.value.field == field


def test_equal_instalments_add_up_exactly_with_the_rounding_on_the_last():
    parts = equal_instalments(D("100.00"), 3, TODAY, 30, 2)
    assert [p.amount for p in parts] == [D("33.33"), D("33.33"), D("33.34")]
    assert [p.due_date for p in parts] == [TODAY, TODAY + timedelta(days=30), TODAY + timedelta(days=60)]
    assert sum(p.amount for p in equal_instalments(D("1000"), 7, TODAY, 30, 0)) == D("1000")


def test_minor_units_respect_the_currency_exponent():
    assert to_minor_units(D("100.50"), 2) == 10050
    assert to_minor_units(D("1500"), 0) == 1500
    with pytest.raises(ValueError):
        to_minor_units(D("10.5"), 0)
