import csv
import json
from datetime import date
from decimal import Decimal

from rapport_synth import generate_company
from rapport_synth.export import records, write_files

TODAY = date(2026, 6, 15)


def test_records_use_decimal_strings_and_iso_dates():
    company = generate_company(seed=5, customers=8, months=2, today=TODAY)
    rows = records(company)
    invoice = rows["invoices"][0]
    assert set(invoice) == {"number", "customer_external_id", "issue_date", "due_date", "currency", "amount",
                            "tax_amount", "po_number", "terms"}
    assert Decimal(invoice["amount"]) == company.invoices[0].amount
    assert date.fromisoformat(invoice["due_date"]) == company.invoices[0].due_date
    payment = rows["payments"][0]
    assert sum(Decimal(a["amount"]) for a in payment["allocations"]) == Decimal(payment["amount"])
    assert len(rows["contacts"]) == sum(len(c.contacts) for c in company.customers)


def test_files_round_trip(tmp_path):
    company = generate_company(seed=5, customers=8, months=2, today=TODAY)
    paths = write_files(company, tmp_path)
    assert {p.name for p in paths} == {"customers.ndjson", "contacts.ndjson", "invoices.ndjson",
                                       "payments.ndjson", "customers.csv", "invoices.csv"}
    lines = (tmp_path / "invoices.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["number"] for line in lines] == [i.number for i in company.invoices]
    with (tmp_path / "customers.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["external_id"] for r in rows] == [c.external_id for c in company.customers]
    assert rows[0]["collector_email"] == company.customers[0].collector.email
