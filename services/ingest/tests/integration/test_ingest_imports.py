"""Bulk import jobs: a realistic QuickBooks export, NDJSON, progress and the per-row error report."""
from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "quickbooks_open_invoices.csv"


async def test_quickbooks_csv_import_creates_customers_and_invoices_and_reports_bad_rows(tenant, relay, infra):
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice"), infra.topic("customer")) as watcher:
        with FIXTURE.open("rb") as upload:
            response = await tenant.http.post("/v1/imports", params={"kind": "invoices", "preset": "quickbooks"},
                                              files={"file": ("open_invoices.csv", upload, "text/csv")},
                                              headers=tenant.headers)
        assert response.status_code == 202, response.text
        job = await tenant.finished_import(response.json()["job_id"])
        assert job["status"] == "completed" and job["rows_total"] == 12
        assert (job["rows_done"], job["rows_failed"]) == (8, 4)
        issued = await watcher.wait_for(lambda e: e.type == "rapport.invoice.issued.v1"
                                        and e.tenant_id.hex == tenant.tenant_id.replace("-", ""), count=8)
        await watcher.wait_for(lambda e: e.type == "rapport.customer.upserted.v1"
                               and e.data["external_id"] == "Cool Cars")
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert {(e["row"], e["field"]) for e in errors} == {(6, "due_date"), (7, "due_date"), (8, "amount"), (9, None)}
    invoice = (await tenant.get("/v1/invoices/1003")).json()
    assert invoice["amount"] == "2369.5200" and invoice["due_date"] == "2026-01-24" and invoice["po_number"] == "PO-0042"
    customer = (await tenant.get("/v1/customers/Dukes Basketball Camp, LLC")).json()
    assert customer["open_balance"] == [{"currency": "USD", "amount": "460.4000", "invoices": 1}]
    assert {e.data["number"] for e in issued} >= {"1001", "1003", "1012"}


async def test_ndjson_reimport_updates_changed_rows_only_and_keeps_applied_money(tenant, ingest_app):
    await tenant.customer("C-1")
    lines = b"".join(
        f'{{"number": "N-{i}", "customer_external_id": "C-1", "issue_date": "2026-01-01", '
        f'"due_date": "2026-01-31", "currency": "USD", "amount": "{100 + i}.00"}}\n'.encode() for i in range(120))
    first = await tenant.http.post("/v1/imports?kind=invoices&format=ndjson", content=lines, headers=tenant.headers)
    job = await tenant.finished_import(first.json()["job_id"])
    assert (job["rows_done"], job["rows_failed"]) == (120, 0)
    listed = (await tenant.get("/v1/invoices", params={"limit": 1000})).json()["items"]
    assert len(listed) == 120, [i["number"] for i in listed][:5]
    await tenant.post("/v1/payments", {"external_id": "P-N", "customer_external_id": "C-1", "amount": "50",
                                       "currency": "USD", "received_on": "2026-02-01",
                                       "allocations": [{"invoice_number": "N-5", "amount": "50"}]})
    changed = lines.replace(b'"amount": "105.00"', b'"amount": "205.00"').replace(b'"amount": "106.00"', b'"amount": "10"')
    second = await tenant.http.post("/v1/imports?kind=invoices&format=ndjson", content=changed + b"{oops\n",
                                    headers=tenant.headers)
    job = await tenant.finished_import(second.json()["job_id"])
    assert (job["rows_done"], job["rows_failed"]) == (120, 1)
    updated = (await tenant.get("/v1/invoices/N-5")).json()
    assert "amount" in updated, updated
    assert (updated["amount"], updated["open_amount"], updated["version"]) == ("205.0000", "155.0000", 3)
    assert (await tenant.get("/v1/invoices/N-6")).json()["amount"] == "10.0000"
    assert (await tenant.get("/v1/invoices/N-7")).json()["version"] == 1
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert errors[0]["row"] == 121 and "malformed JSON" in errors[0]["reason"]


async def test_import_of_an_invoice_below_what_was_paid_is_reported_not_applied(tenant):
    await tenant.customer("C-1")
    await tenant.invoice("LOCKED", "100")
    await tenant.post("/v1/payments", {"external_id": "P-L", "customer_external_id": "C-1", "amount": "80",
                                       "currency": "USD", "received_on": "2026-02-01"})
    body = (b'{"number": "LOCKED", "customer_external_id": "C-1", "issue_date": "2025-12-01", '
            b'"due_date": "2026-03-01", "currency": "USD", "amount": "50"}\n')
    job = await tenant.finished_import((await tenant.http.post("/v1/imports?kind=invoices&format=ndjson", content=body,
                                                          headers=tenant.headers)).json()["job_id"])
    assert job["rows_failed"] == 1
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert "below what is already applied" in errors[0]["reason"]
    assert (await tenant.get("/v1/invoices/LOCKED")).json()["amount"] == "100.0000"


async def test_customer_and_payment_imports_use_the_same_rules_as_the_api(tenant):
    customers = b"external_id,name,currency,country\nK-1,Kestrel Ltd,GBP,GB\nK-2,Bad Currency,QQQ,GB\n"
    job = await tenant.finished_import((await tenant.http.post("/v1/imports?kind=customers&format=csv", content=customers,
                                                          headers=tenant.headers)).json()["job_id"])
    assert (job["rows_done"], job["rows_failed"]) == (1, 1), job["detail"]
    await tenant.invoice("K-INV", "40", customer="K-1", currency="GBP")
    payments = (b'{"external_id": "KP-1", "customer_external_id": "K-1", "amount": "40", "currency": "GBP", "received_on": "2026-02-01"}\n'
                b'{"external_id": "KP-2", "customer_external_id": "K-404", "amount": "1", "currency": "GBP", "received_on": "2026-02-01"}\n')
    job = await tenant.finished_import((await tenant.http.post("/v1/imports?kind=payments&format=ndjson", content=payments,
                                                          headers=tenant.headers)).json()["job_id"])
    assert (job["rows_done"], job["rows_failed"]) == (1, 1), job["detail"]
    assert (await tenant.get("/v1/invoices/K-INV")).json()["status"] == "paid"
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert errors == [{"row": 2, "field": "customer_external_id", "reason": "unknown customer 'K-404'"}]


async def test_a_number_repeated_in_one_file_with_other_content_is_reported_and_stale_rows_are_ignored(
        tenant, relay, infra):
    await tenant.customer("C-1")
    await tenant.put("/v1/invoices/OLD-1", {"customer_external_id": "C-1", "issue_date": "2026-01-01",
                                            "due_date": "2026-01-31", "currency": "USD", "amount": "70",
                                            "updated_at": "2026-03-01T00:00:00Z"})

    def line(number: str, amount: str, **extra) -> bytes:
        import json
        return (json.dumps({"number": number, "customer_external_id": "C-1", "issue_date": "2026-01-01",
                            "due_date": "2026-01-31", "currency": "USD", "amount": amount, **extra}) + "\n").encode()

    # Chunks are 50 rows in this suite: the repeats land in the same chunk and in a later one.
    body = b"".join(line(f"D-{i}", "10") for i in range(60))
    body += line("D-3", "10") + line("D-4", "11") + line("D-55", "99")
    body += line("OLD-1", "5", updated_at="2026-02-01T00:00:00Z")
    body += line("L-1", "30", lines=[{"description": "consulting", "amount": "30"}])
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        job = await tenant.finished_import((await tenant.http.post("/v1/imports?kind=invoices&format=ndjson", content=body,
                                                              headers=tenant.headers)).json()["job_id"])
        issued = await watcher.wait_for(lambda e: e.type == "rapport.invoice.issued.v1"
                                        and e.correlation_id == UUID(job["job_id"]), count=61)
    assert (job["rows_total"], job["rows_done"], job["rows_failed"]) == (65, 63, 2)
    errors = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    assert [(e["row"], e["field"]) for e in errors] == [(62, "number"), (63, "number")]
    assert "earlier in this file" in errors[0]["reason"] and "earlier in this file" in errors[1]["reason"]
    assert (await tenant.get("/v1/invoices/D-4")).json()["amount"] == "10.0000"
    assert (await tenant.get("/v1/invoices/OLD-1")).json()["amount"] == "70.0000"
    lined = (await tenant.get("/v1/invoices/L-1")).json()
    assert lined["lines"][0]["description"] == "consulting"
    by_number = {e.data["number"]: e for e in issued}
    assert set(by_number) == {f"D-{i}" for i in range(60)} | {"L-1"}
    assert by_number["D-7"].data["amount_total"] == "10.0000" and str(by_number["D-7"].tenant_id) == tenant.tenant_id


async def test_text_with_backslashes_tabs_and_line_breaks_survives_the_bulk_path(tenant):
    import json

    await tenant.customer("C\\1")
    awkward = {"number": "T\\1\tA", "customer_external_id": "C\\1", "issue_date": "2026-01-01",
               "due_date": "2026-01-31", "currency": "USD", "amount": "12", "po_number": "PO \\N",
               "terms": "line one\r\nline two", "pdf_url": "https://erp.example/inv?id=1&x=\\t"}
    job = await tenant.finished_import((await tenant.http.post("/v1/imports?kind=invoices&format=ndjson",
                                                          content=json.dumps(awkward).encode() + b"\n",
                                                          headers=tenant.headers)).json()["job_id"])
    assert (job["rows_done"], job["rows_failed"]) == (1, 0)
    stored = (await tenant.get("/v1/invoices/T%5C1%09A")).json()
    assert stored["number"] == "T\\1\tA"
    assert (stored["po_number"], stored["terms"], stored["pdf_url"]) == (
        "PO \\N", "line one\r\nline two", "https://erp.example/inv?id=1&x=\\t")
