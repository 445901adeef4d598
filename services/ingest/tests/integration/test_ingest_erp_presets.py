"""Xero and NetSuite exports end to end through the import job: their columns, date formats,
currency columns, thousands separators, line-item rows, blank and totals rows."""
from __future__ import annotations

from pathlib import Path

import pytest

from rapport_shared.testing.kafka import TopicWatcher


pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def _upload(tenant, name: str, preset: str) -> dict:
    with (FIXTURES / name).open("rb") as upload:
        response = await tenant.http.post("/v1/imports", params={"kind": "invoices", "preset": preset},
                                          files={"file": (name, upload, "text/csv")}, headers=tenant.headers)
    assert response.status_code == 202, response.text
    return await tenant.finished_import(response.json()["job_id"])


async def test_xero_invoice_export_with_line_rows_and_day_first_dates(tenant, relay, infra):
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        job = await _upload(tenant, "xero_invoices_export.csv", "xero")
        issued = await watcher.wait_for(lambda e: e.type == "rapport.invoice.issued.v1"
                                        and str(e.tenant_id) == tenant.tenant_id, count=5)
    # Nine data rows: INV-0027 has two line rows, three rows are bad, the all-empty last row is skipped.
    assert (job["status"], job["rows_total"], job["rows_done"], job["rows_failed"]) == ("completed", 9, 6, 3)
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert {(e["row"], e["field"]) for e in errors} == {(6, "issue_date"), (7, "due_date"), (9, "currency")}
    assert sorted(e.data["number"] for e in issued) == ["INV-0027", "INV-0028", "INV-0029", "INV-0030", "INV-0033"]
    bayside = (await tenant.get("/v1/invoices/INV-0027")).json()
    assert (bayside["issue_date"], bayside["due_date"], bayside["amount"], bayside["tax_amount"]) == (
        "2026-01-03", "2026-02-02", "1740.0000", "290.0000")
    assert bayside["po_number"] == "Ref MK815" and bayside["currency"] == "GBP"
    marine = (await tenant.get("/v1/invoices/INV-0030")).json()
    assert (marine["currency"], marine["amount"]) == ("EUR", "2460.0000")
    customer = (await tenant.get("/v1/customers/City Agency")).json()
    assert customer["open_balance"] == [{"currency": "GBP", "amount": "12960.0000", "invoices": 1}]


async def test_netsuite_saved_search_with_month_first_dates_foreign_amounts_and_a_totals_row(tenant):
    job = await _upload(tenant, "netsuite_open_invoices_saved_search.csv", "netsuite")
    # Eight data rows and the totals row (done, nothing written); the blank row is not a row.
    assert (job["status"], job["rows_total"], job["rows_done"], job["rows_failed"]) == ("completed", 9, 6, 3)
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert {(e["row"], e["field"]) for e in errors} == {(5, "due_date"), (6, "amount"), (8, "number")}
    assert "must be zero or more" in next(e["reason"] for e in errors if e["field"] == "amount")
    first = (await tenant.get("/v1/invoices/INV10231")).json()
    assert (first["issue_date"], first["due_date"], first["amount"], first["po_number"]) == (
        "2026-01-05", "2026-02-04", "4250.0000", "PO-44817")
    euro = (await tenant.get("/v1/invoices/INV10234")).json()
    assert (euro["currency"], euro["amount"]) == ("EUR", "9800.0000")  # the invoice's currency, not the base
    brightline = (await tenant.get("/v1/customers/1212")).json()
    assert brightline["name"] == "C1212 Brightline Logistics Inc."
    assert brightline["open_balance"] == [{"currency": "USD", "amount": "19542.9500", "invoices": 2}]
    listed = (await tenant.get("/v1/invoices", params={"limit": 100})).json()["items"]
    assert sorted(i["number"] for i in listed) == ["INV10231", "INV10232", "INV10233", "INV10234", "INV10237"]
