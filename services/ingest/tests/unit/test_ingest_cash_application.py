"""Cash application rules, one by one, plus the balance arithmetic they rely on."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from uuid import uuid4

import pytest

from rapport_ingest.domain.cash_application import Incoming, OpenInvoice, Requested, match_payment, unapplied_amount
from rapport_ingest.domain.errors import Conflict, Invalid
from rapport_ingest.domain.ledger import Balance


def inv(number: str, amount: str, due: str, currency: str = "USD") -> OpenInvoice:
    return OpenInvoice(uuid4(), number, currency, D(amount), date.fromisoformat(due))


OLD = inv("INV-1", "100.00", "2026-01-10")
MID = inv("INV-2", "250.00", "2026-02-10")
NEW = inv("INV-3", "400.00", "2026-03-10")
EURO = inv("INV-E", "250.00", "2026-01-01", "EUR")


def numbers(match) -> list[tuple[str, D]]:
    return [(i.number, a) for i, a in match.allocations]


def test_explicit_allocations_win_over_every_other_rule():
    payment = Incoming(D("250.00"), "USD", remittance_text="INV-3", requested=(Requested("INV-1", D("60")),))
    match = match_payment(payment, [OLD, MID, NEW], "oldest_first")
    assert match.rule == "explicit" and numbers(match) == [("INV-1", D("60"))]
    assert unapplied_amount(payment, match) == D("190.00")


def test_explicit_allocation_above_open_amount_is_refused_with_the_field():
    with pytest.raises(Invalid) as err:
        match_payment(Incoming(D("500"), "USD", requested=(Requested("INV-1", D("150")),)), [OLD], "oldest_first")
    assert err.value.field == "allocations.0.amount"


def test_explicit_allocations_cannot_exceed_the_payment():
    with pytest.raises(Invalid) as err:
        match_payment(Incoming(D("50"), "USD", requested=(Requested("INV-1", D("60")),)), [OLD], "oldest_first")
    assert err.value.field == "allocations"


def test_unknown_invoice_in_explicit_allocation_names_it():
    with pytest.raises(Invalid) as err:
        match_payment(Incoming(D("50"), "USD", requested=(Requested("NOPE", D("50")),)), [OLD], "oldest_first")
    assert "NOPE" in err.value.reason and err.value.field == "allocations.0.invoice_number"


def test_invoice_numbers_in_remittance_text_are_paid_oldest_first():
    payment = Incoming(D("650.00"), "USD", remittance_text="Payment for inv-3 and INV-2, thanks")
    match = match_payment(payment, [OLD, MID, NEW], "oldest_first")
    assert match.rule == "remittance"
    assert numbers(match) == [("INV-2", D("250.00")), ("INV-3", D("400.00"))]


def test_remittance_number_must_match_a_whole_token():
    payment = Incoming(D("100.00"), "USD", remittance_text="ref INV-10 and INV-1x")
    match = match_payment(payment, [OLD], "unapplied")
    assert match.allocations == [] or match.rule != "remittance"


def test_exact_amount_match_picks_the_invoice_with_that_open_amount():
    match = match_payment(Incoming(D("400.00"), "USD"), [OLD, MID, NEW], "unapplied")
    assert match.rule == "exact_amount" and numbers(match) == [("INV-3", D("400.00"))]


def test_exact_amount_with_several_candidates_takes_the_oldest():
    twin = inv("INV-0", "400.00", "2025-12-01")
    match = match_payment(Incoming(D("400.00"), "USD"), [NEW, twin], "unapplied")
    assert numbers(match) == [("INV-0", D("400.00"))]


def test_oldest_first_policy_spreads_with_a_partial_on_the_last_invoice():
    match = match_payment(Incoming(D("300.00"), "USD"), [NEW, MID, OLD], "oldest_first")
    assert match.rule == "oldest_first"
    assert numbers(match) == [("INV-1", D("100.00")), ("INV-2", D("200.00"))]


def test_unapplied_policy_leaves_the_money_for_review():
    payment = Incoming(D("300.00"), "USD")
    match = match_payment(payment, [OLD, MID], "unapplied")
    assert match.allocations == [] and unapplied_amount(payment, match) == D("300.00")
    assert "review" in match.review_reason


def test_overpayment_keeps_the_rest_as_unapplied_credit():
    payment = Incoming(D("1000.00"), "USD")
    match = match_payment(payment, [OLD, MID, NEW], "oldest_first")
    assert match.applied() == D("750.00") and unapplied_amount(payment, match) == D("250.00")
    assert match.review_reason.startswith("overpayment")


def test_other_currency_invoices_are_never_candidates():
    match = match_payment(Incoming(D("250.00"), "USD"), [EURO], "oldest_first")
    assert match.allocations == [] and "another currency" in match.review_reason


def test_explicit_allocation_to_another_currency_is_flagged_not_converted():
    payment = Incoming(D("250.00"), "USD", requested=(Requested("INV-E", D("250.00")),))
    match = match_payment(payment, [EURO], "oldest_first")
    assert match.allocations == [] and match.review_reason.startswith("currency mismatch")
    assert unapplied_amount(payment, match) == D("250.00")


def test_balance_status_follows_payments_credits_write_offs_and_void():
    balance = Balance(D("100"))
    assert balance.status == "open"
    partly = balance.apply("payment", D("40"))
    assert (partly.open_amount, partly.status) == (D("60"), "partially_paid")
    assert partly.apply("payment", D("60")).status == "paid"
    assert partly.apply("credit_note", D("60")).status == "paid"
    assert balance.apply("credit_note", D("100")).status == "credited"
    assert partly.apply("write_off", D("60")).status == "written_off"
    assert balance.void().status == "void" and balance.void().open_amount == 0


def test_reversal_reopens_and_cannot_undo_more_than_applied():
    paid = Balance(D("100")).apply("payment", D("100"))
    reopened = paid.apply("payment", D("-30"))
    assert (reopened.open_amount, reopened.status) == (D("30"), "partially_paid")
    with pytest.raises(Invalid):
        Balance(D("100")).apply("payment", D("-1"))


def test_cannot_apply_more_than_open_or_void_a_paid_invoice():
    with pytest.raises(Invalid):
        Balance(D("100")).apply("payment", D("100.01"))
    with pytest.raises(Conflict):
        Balance(D("100")).apply("payment", D("1")).void()


def test_retotal_below_applied_is_a_conflict():
    with pytest.raises(Conflict):
        Balance(D("100")).apply("payment", D("80")).retotal(D("50"))
    assert Balance(D("100")).apply("payment", D("80")).retotal(D("120")).open_amount == D("40")


def test_a_person_reviews_what_could_not_be_applied_and_every_currency_mismatch_but_not_an_overpayment():
    usd, eur = inv("A-1", "100", "2026-01-10"), inv("E-1", "50", "2026-01-05", currency="EUR")
    applied = match_payment(Incoming(D("100"), "USD"), [usd], "oldest_first")
    unmatched = match_payment(Incoming(D("70"), "USD"), [usd], "unapplied")
    other_currency = match_payment(Incoming(D("70"), "USD"), [eur], "oldest_first")
    mismatch = match_payment(Incoming(D("60"), "USD", requested=(Requested("E-1", D("20")), Requested("A-1", D("40")))),
                             [usd, eur], "oldest_first")
    overpaid = match_payment(Incoming(D("130"), "USD"), [usd], "oldest_first")
    assert [m.needs_review for m in (applied, unmatched, other_currency, mismatch, overpaid)] == [
        False, True, True, True, False]
    assert mismatch.allocations and mismatch.review_reason.startswith("currency mismatch")
    assert overpaid.review_reason.startswith("overpayment")
