"""The fast row check agrees with the API's pydantic model; the rules for rows the ledger already holds."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport_ingest.domain.errors import Conflict
from rapport_ingest.domain.invoice_rows import InvoiceRow, _fast, invoice_row, reconcile
from rapport_ingest.domain.presets import preset_for
from rapport_ingest.domain.rows import ImportedInvoice, RowError

NATIVE = preset_for("native", "invoices")
TEXTS = st.sampled_from(["INV-1", " INV-2 ", "", "   ", "x" * 100, "x" * 101, "Ünïcode", "a\tb"])
DATES = st.sampled_from(["2026-01-31", "2026-02-30", "2026-1-5", "31/01/2026", "2026-01-31T10:00:00", " 2026-01-01",
                         "20260131", "", "2025-12-31", "2026-W05-1"])
AMOUNTS = st.one_of(st.sampled_from(["100", "100.5", "0", "-1", "1,000.00", "12.34567", "1e3", "NaN", "abc", " 7 ",
                                     ".5", "5.", "1_000", "٣", "", "99999999999.9999"]),
                    st.integers(-5, 10**9), st.floats(allow_nan=True), st.none(), st.booleans())
CURRENCIES = st.sampled_from(["USD", "usd", " EUR ", "QQQ", "XXX", "", "JPY"])
OPTIONAL = st.one_of(st.none(), TEXTS, st.integers(0, 9))


@st.composite
def raw_rows(draw) -> dict:
    row = {"number": draw(st.one_of(TEXTS, st.integers(0, 9))), "customer_external_id": draw(TEXTS),
           "issue_date": draw(DATES), "due_date": draw(DATES), "currency": draw(CURRENCIES), "amount": draw(AMOUNTS),
           "tax_amount": draw(st.one_of(st.none(), AMOUNTS)), "po_number": draw(OPTIONAL), "terms": draw(OPTIONAL),
           "pdf_url": draw(OPTIONAL), "customer_name": draw(OPTIONAL)}
    return {k: v for k, v in row.items() if v is not None or draw(st.booleans())}


@settings(max_examples=600, deadline=None)
@given(raw_rows())
def test_the_fast_path_never_accepts_a_row_the_model_refuses_and_reads_it_the_same(raw):
    fast = _fast(1, raw)
    if fast is None:
        return
    command = ImportedInvoice.model_validate(NATIVE.map_row(raw))  # raises if the model would refuse it
    assert (fast.number, fast.customer_external_id, fast.issue_date, fast.due_date, fast.currency, fast.amount,
            fast.tax_amount) == (command.number, command.customer_external_id, command.issue_date,
                                 command.due_date, command.currency, command.amount, command.tax_amount)
    assert (fast.po_number, fast.terms, fast.pdf_url) == (command.po_number or None, command.terms or None,
                                                          command.pdf_url or None)


def test_rows_the_fast_path_defers_still_get_the_models_errors_and_values():
    bad = invoice_row(4, {"number": "A", "customer_external_id": "C", "issue_date": "2026-02-30",
                          "due_date": "2026-01-01", "currency": "QQQ", "amount": "-5"}, NATIVE)
    assert isinstance(bad, list) and {e.field for e in bad} == {"issue_date", "currency", "amount"}
    assert all(isinstance(e, RowError) and e.row == 4 for e in bad)
    odd = invoice_row(5, {"number": "B", "customer_external_id": "C", "issue_date": "2026-01-01",
                          "due_date": "2026-01-31", "currency": "usd", "amount": "1,250.50",
                          "lines": [{"description": "hours", "amount": "1250.50"}],
                          "updated_at": "2026-01-02T10:00:00+00:00"}, NATIVE)
    assert isinstance(odd, InvoiceRow) and odd.amount == Decimal("1250.50") and odd.currency == "USD"
    assert odd.updated_at == datetime(2026, 1, 2, 10, tzinfo=timezone.utc) and '"hours"' in odd.lines


JOB, CUSTOMER = uuid4(), uuid4()


def _row(**changes) -> InvoiceRow:
    values = dict(row=3, number="N-1", customer_external_id="C", customer_name=None, issue_date=date(2026, 1, 1),
                  due_date=date(2026, 1, 31), currency="USD", amount=Decimal("100"), tax_amount=Decimal(0),
                  po_number=None, terms=None, pdf_url=None, lines=None, updated_at=None)
    return InvoiceRow(**{**values, **changes})


def _stored(**changes) -> dict:
    values = {"customer_id": CUSTOMER, "status": "open", "issue_date": date(2026, 1, 1), "due_date": date(2026, 1, 31),
              "currency": "USD", "amount_total": Decimal("100.0000"), "tax_amount": Decimal("0.0000"),
              "paid_amount": Decimal(0), "credited_amount": Decimal(0), "written_off_amount": Decimal(0),
              "po_number": None, "terms": None, "pdf_url": None, "lines": "[]", "source_updated_at": None,
              "import_job_id": None}
    return {**values, **changes}


def test_a_row_that_changes_nothing_or_is_older_than_the_ledger_is_left_alone():
    assert reconcile(_row(), CUSTOMER, _stored(), JOB) is None
    assert reconcile(_row(), CUSTOMER, _stored(import_job_id=JOB), JOB) is None  # the same row twice in a file
    when = datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert reconcile(_row(amount=Decimal(5), updated_at=when), CUSTOMER, _stored(source_updated_at=when.replace(month=3)),
                     JOB) is None


def test_a_changed_amount_keeps_what_was_applied():
    balance = reconcile(_row(amount=Decimal(150)), CUSTOMER, _stored(paid_amount=Decimal(40)), JOB)
    assert (balance.open_amount, balance.status) == (Decimal(110), "partially_paid")


@pytest.mark.parametrize("row, stored, field, words", [
    (_row(), _stored(customer_id=uuid4()), "customer_external_id", "belongs to another customer"),
    (_row(amount=Decimal(1)), _stored(status="void"), "number", "is void"),
    (_row(amount=Decimal(7)), _stored(import_job_id=JOB), "number", "earlier in this file"),
    (_row(amount=Decimal(30)), _stored(paid_amount=Decimal(40)), "amount", "below what is already applied"),
    (_row(currency="EUR"), _stored(paid_amount=Decimal(1)), "currency", "cannot change"),
])
def test_rows_the_ledger_cannot_apply_are_refused_with_the_field(row, stored, field, words):
    with pytest.raises(Conflict) as refused:
        reconcile(row, CUSTOMER, stored, JOB)
    assert refused.value.field == field and words in refused.value.reason
