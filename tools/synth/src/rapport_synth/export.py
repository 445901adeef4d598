"""The company in the ingest API's shapes: request bodies, NDJSON and CSV import files.

Amounts are decimal strings and dates ISO-8601, exactly as the API takes them.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from rapport_synth.model import Company, Contact, Customer, Invoice, Payment


def customer_body(c: Customer) -> dict:
    return {
        "name": c.name, "currency": c.currency, "country": c.country, "time_zone": c.time_zone,
        "locale": c.locale, "payment_terms_days": c.payment_terms_days, "size": c.size,
        "industry": c.industry, "region": c.region, "tags": list(c.tags),
        "collector": {"id": c.collector.id, "name": c.collector.name, "email": c.collector.email},
    }


def contact_body(c: Contact) -> dict:
    return {
        "name": c.name, "email": c.email, "phone": c.phone, "role": c.role,
        "preferred_channel": c.preferred_channel, "locale": c.locale, "time_zone": c.time_zone,
        "is_primary": c.is_primary,
    }


def invoice_body(i: Invoice) -> dict:
    return {
        "customer_external_id": i.customer_external_id, "issue_date": i.issue_date.isoformat(),
        "due_date": i.due_date.isoformat(), "currency": i.currency, "amount": str(i.amount),
        "tax_amount": str(i.tax_amount), "po_number": i.po_number, "terms": i.terms,
    }


def payment_body(p: Payment) -> dict:
    return {
        "external_id": p.external_id, "customer_external_id": p.customer_external_id,
        "amount": str(p.amount), "currency": p.currency, "received_on": p.received_on.isoformat(),
        "method": p.method, "reference": p.reference, "remittance_text": p.remittance_text,
        "allocations": [{"invoice_number": a.invoice_number, "amount": str(a.amount)} for a in p.allocations],
    }


def records(company: Company) -> dict[str, list[dict]]:
    """One flat record per row, the path identifier included (for bulk/NDJSON import)."""
    return {
        "customers": [{"external_id": c.external_id, **customer_body(c)} for c in company.customers],
        "contacts": [
            {"customer_external_id": c.external_id, "external_id": k.external_id, **contact_body(k)}
            for c in company.customers for k in c.contacts
        ],
        "invoices": [{"number": i.number, **invoice_body(i)} for i in company.invoices],
        "payments": [payment_body(p) for p in company.payments],
    }


def write_files(company: Company, folder: Path) -> list[Path]:
    """``<kind>.ndjson`` for every kind plus ``customers.csv`` and ``invoices.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, rows in records(company).items():
        path = folder / f"{kind}.ndjson"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        written.append(path)
        if kind in ("customers", "invoices"):
            written.append(_write_csv(folder / f"{kind}.csv", list(_flat(rows))))
    return written


def _flat(rows: list[dict]) -> Iterator[dict]:
    for row in rows:
        flat = {k: v for k, v in row.items() if k not in ("collector", "tags")}
        if "collector" in row:
            flat.update({f"collector_{k}": v for k, v in row["collector"].items()})
        if "tags" in row:
            flat["tags"] = ";".join(row["tags"])
        yield {k: "" if v is None else v for k, v in flat.items()}


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
    return path
