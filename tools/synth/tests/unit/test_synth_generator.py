from collections import Counter
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from rapport_synth import Behaviour, generate_company

TODAY = date(2026, 6, 15)


@pytest.fixture(scope="module")
def company():
    return generate_company(seed=7, customers=60, months=6, today=TODAY)


def test_same_seed_same_company_and_other_seed_differs():
    first = generate_company(seed=11, customers=20, months=3, today=TODAY)
    again = generate_company(seed=11, customers=20, months=3, today=TODAY)
    other = generate_company(seed=12, customers=20, months=3, today=TODAY)
    assert asdict(first) == asdict(again)
    assert asdict(first) != asdict(other)


def test_every_behaviour_present_and_prompt_payers_most_common(company):
    mix = Counter(c.behaviour for c in company.customers)
    assert set(mix) == set(Behaviour)
    assert mix[Behaviour.PROMPT] == max(mix.values())


def test_small_company_still_gets_every_behaviour():
    mix = {c.behaviour for c in generate_company(seed=3, customers=6, months=2, today=TODAY).customers}
    assert mix == set(Behaviour)


def test_amounts_are_decimal_cents_and_tax_is_part_of_the_total(company):
    for invoice in company.invoices:
        assert isinstance(invoice.amount, Decimal) and invoice.amount > 0
        assert invoice.amount == invoice.amount.quantize(Decimal("0.01"))
        assert Decimal(0) <= invoice.tax_amount < invoice.amount
    for payment in company.payments:
        assert isinstance(payment.amount, Decimal)
        assert payment.amount == sum(a.amount for a in payment.allocations)


def test_invoice_dates_follow_terms_and_stay_within_the_history(company):
    terms = {c.external_id: c.payment_terms_days for c in company.customers}
    for invoice in company.invoices:
        assert invoice.due_date - invoice.issue_date == timedelta(days=terms[invoice.customer_external_id])
        assert TODAY - timedelta(days=6 * 30) <= invoice.issue_date <= TODAY
        assert invoice.terms == f"NET{terms[invoice.customer_external_id]}"
    assert len({i.number for i in company.invoices}) == len(company.invoices)


def test_payments_happen_after_issue_before_today_and_never_overpay(company):
    invoices = {i.number: i for i in company.invoices}
    currency = {c.external_id: c.currency for c in company.customers}
    for payment in company.payments:
        assert payment.received_on <= TODAY
        assert payment.currency == currency[payment.customer_external_id]
        for allocation in payment.allocations:
            invoice = invoices[allocation.invoice_number]
            assert invoice.customer_external_id == payment.customer_external_id
            assert payment.received_on > invoice.issue_date
    for number in invoices:
        assert company.open_amount(number) >= 0


def test_demo_has_overdue_and_not_yet_due_open_invoices(company):
    open_invoices = [i for i in company.invoices if company.open_amount(i.number) > 0]
    assert any(i.due_date < TODAY for i in open_invoices)
    assert any(i.due_date >= TODAY for i in open_invoices)


def _mean_days_late(company, behaviour):
    invoices = {i.number: i for i in company.invoices}
    owners = {c.external_id for c in company.customers if c.behaviour is behaviour}
    late = [(p.received_on - invoices[a.invoice_number].due_date).days
            for p in company.payments if p.customer_external_id in owners for a in p.allocations]
    return sum(late) / len(late)


def test_behaviours_pay_as_described(company):
    assert _mean_days_late(company, Behaviour.PROMPT) < 5
    assert 8 <= _mean_days_late(company, Behaviour.HABITUAL_LATE) <= 25
    assert _mean_days_late(company, Behaviour.CHRONIC_LATE) > 35


def test_partial_payers_pay_invoices_in_several_instalments(company):
    partial = {c.external_id for c in company.customers if c.behaviour is Behaviour.PARTIAL}
    per_invoice = Counter(a.invoice_number for p in company.payments if p.customer_external_id in partial
                          for a in p.allocations)
    assert per_invoice and max(per_invoice.values()) >= 2


def test_disputers_hold_back_disputed_invoices(company):
    disputed = [i for i in company.invoices if i.disputed]
    assert disputed
    paid = {a.invoice_number for p in company.payments for a in p.allocations}
    assert not paid & {i.number for i in disputed}


def test_some_remittance_texts_quote_the_invoice_numbers(company):
    quoting = [p for p in company.payments
               if p.remittance_text and all(a.invoice_number in p.remittance_text for a in p.allocations)]
    assert len(quoting) > len(company.payments) / 3


def test_customers_have_contacts_currencies_and_time_zones(company):
    currencies = Counter(c.currency for c in company.customers)
    assert currencies["USD"] > currencies["EUR"] > 0 and currencies["GBP"] > 0
    for customer in company.customers:
        assert sum(k.is_primary for k in customer.contacts) == 1
        assert all(k.email.endswith(".example") for k in customer.contacts)
        assert "/" in customer.time_zone and customer.locale[:2].isalpha()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        generate_company(customers=0)
