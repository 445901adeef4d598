"""Field-level validation shared by the API and the import: money, currencies, dates, rows, presets."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from rapport_ingest.domain import values
from rapport_ingest.domain.commands import CreateInvoice, RecordPayment
from rapport_ingest.domain.presets import preset_for
from rapport_ingest.domain.rows import RowError, parse_lines, validate

GOOD = {"number": "INV-1", "customer_external_id": "C-1", "issue_date": "2026-01-01",
        "due_date": "2026-01-31", "currency": "usd", "amount": "10.50"}


def fields(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def test_amounts_are_decimals_from_strings_or_numbers_never_floats():
    invoice = CreateInvoice.model_validate({**GOOD, "amount": 10.1})
    assert invoice.amount == Decimal("10.1") and isinstance(invoice.amount, Decimal)
    assert invoice.currency == "USD"


@pytest.mark.parametrize("bad", ["-5", "ten", "1e400x", "NaN", True, "1.23456"])
def test_bad_amounts_are_refused_naming_the_field(bad):
    with pytest.raises(ValidationError) as err:
        CreateInvoice.model_validate({**GOOD, "amount": bad})
    assert fields(err.value) == {"amount"}


@pytest.mark.parametrize("code", ["ABC", "US", "XXX", "", "EURO"])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(ValidationError) as err:
        CreateInvoice.model_validate({**GOOD, "currency": code})
    assert fields(err.value) == {"currency"}


def test_the_currency_list_is_iso_4217_from_cldr():
    assert {"USD", "EUR", "JPY", "KWD", "CHF", "INR", "BRL"} <= values.CURRENCIES
    assert len(values.CURRENCIES) > 150
    assert (values.minor_unit_exponent("JPY"), values.minor_unit_exponent("USD"), values.minor_unit_exponent("KWD")) == (0, 2, 3)


def test_impossible_dates_are_refused_not_rolled_over():
    with pytest.raises(ValidationError) as err:
        CreateInvoice.model_validate({**GOOD, "issue_date": "2026-02-30"})
    assert fields(err.value) == {"issue_date"}
    assert "2026-02-30" in str(err.value)


def test_due_date_before_issue_date_is_refused():
    with pytest.raises(ValidationError) as err:
        CreateInvoice.model_validate({**GOOD, "due_date": "2025-12-31"})
    assert "before issue_date" in str(err.value)


def test_payment_amount_must_be_positive():
    with pytest.raises(ValidationError) as err:
        RecordPayment.model_validate({"external_id": "P", "amount": "0", "currency": "USD", "received_on": "2026-01-01"})
    assert fields(err.value) == {"amount"}


def test_malformed_ndjson_lines_are_reported_per_row():
    lines = [b'{"number": "A"}\n', b"{not json\n", b"\n", b"[1, 2]\n", b'{"number": "B"}\n']
    parsed = list(parse_lines(lines, "ndjson"))
    assert [n for n, _ in parsed] == [1, 2, 3, 4]
    assert isinstance(parsed[1][1], RowError) and "malformed JSON" in parsed[1][1].reason
    assert isinstance(parsed[2][1], RowError) and parsed[3][1] == {"number": "B"}


def test_csv_rows_with_the_wrong_number_of_columns_are_reported():
    lines = [b"Num,Customer,Amount\n", b"1,Acme,10\n", b"2,Acme\n", b'3,"Acme, Inc",12\n']
    parsed = list(parse_lines(lines, "csv"))
    assert isinstance(parsed[1][1], RowError) and parsed[1][0] == 2
    assert parsed[2][1]["Customer"] == "Acme, Inc"


def test_quickbooks_preset_maps_us_dates_and_names_the_customer():
    preset = preset_for("quickbooks", "invoices")
    raw = {"Date": "01/15/2026", "Num": "1001", "Customer": "Acme Corp", "Due date": "02/14/2026", "Amount": "1,250.00"}
    command = validate("invoices", preset, 1, raw)
    assert command.number == "1001" and command.customer_name == "Acme Corp"
    assert command.issue_date == date(2026, 1, 15) and command.amount == Decimal("1250.00")
    assert command.currency == "USD"


def test_preset_row_with_an_impossible_date_names_the_field():
    errors = validate("invoices", preset_for("quickbooks", "invoices"), 7,
                      {"Date": "02/30/2026", "Num": "1", "Customer": "A", "Due date": "03/01/2026", "Amount": "5"})
    assert [(e.row, e.field) for e in errors] == [(7, "issue_date")]


def test_custom_mapping_must_name_known_fields():
    preset = preset_for("custom", "invoices", {"number": "Doc", "amount": "Gross", "date_formats": ["%d.%m.%Y"]})
    assert preset.map_row({"Doc": "X", "Gross": "1", "Other": "z"}) == {"number": "X", "amount": "1"}
    with pytest.raises(ValueError):
        preset_for("custom", "invoices", {"colour": "Doc"})


def test_amounts_in_parentheses_are_negative_and_refused_as_such():
    with pytest.raises(ValueError, match="zero or more"):
        values.amount("(1,150.00)")
    assert values.amount("1,150.00") == Decimal("1150.00")


@pytest.mark.parametrize("preset, row, summary", [
    ("netsuite", {"Internal ID": "Total", "Document Number": "", "Amount": "37,628.05"}, True),
    ("quickbooks", {"Date": "TOTAL", "Num": "", "Amount": "5,000.00"}, True),
    ("quickbooks", {"Date": "01/05/2026", "Num": "", "Customer": "Total Hardware Ltd"}, True),
    ("quickbooks", {"Date": "01/05/2026", "Num": "1001", "Customer": "Total Hardware Ltd"}, False),
    ("xero", {"InvoiceNumber": "", "ContactName": "Acme"}, False),
])
def test_report_totals_rows_are_recognised_but_a_customer_named_total_is_data(preset, row, summary):
    assert preset_for(preset, "invoices").is_summary(row) is summary


def test_upload_row_counts_skip_blank_lines_and_keep_quoted_newlines():
    from rapport_ingest.domain.rows import count_rows

    assert count_rows(b'{"a": 1}\n\n  \n{"a": 2}\n', "ndjson") == 2
    assert count_rows(b'Num,Memo\n1,"two\nlines"\n,\n2,x\n', "csv") == 2
