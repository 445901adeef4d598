"""Read-model rows to JSON-ready dicts: money stays a decimal *string* with its currency, never a float."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from rapport_portal.domain.account import Summary
from rapport_portal.domain.statement import Statement


def amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"amount": format(value, "f"), "currency": currency}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def invoice(row: dict, today: date) -> dict[str, Any]:
    open_ = row["status"] in ("open", "partially_paid") and row["open_amount"] > 0
    overdue_days = (today - row["due_date"]).days if open_ else 0
    return {
        "id": str(row["invoice_id"]), "number": row["number"], "status": row["status"],
        "issue_date": row["issue_date"].isoformat(), "due_date": row["due_date"].isoformat(),
        "currency": row["currency"], "amount_total": format(row["amount_total"], "f"),
        "tax_amount": format(row["tax_amount"], "f"), "open_amount": format(row["open_amount"], "f"),
        "overdue": overdue_days > 0, "days_overdue": max(overdue_days, 0),
        "po_number": row["po_number"], "terms": row["terms"], "dunning_stage": row["dunning_stage"],
        "last_touch_at": _iso(row["last_touch_at"]),
        "pdf": f"/v1/invoices/{row['invoice_id']}/pdf", "paid_at": _iso(row["paid_at"]),
    }


def invoice_list(rows: list, total: int, today: date, *, limit: int, offset: int) -> bytes:
    return orjson.dumps({"items": [invoice(r, today) for r in rows], "total": total, "limit": limit, "offset": offset})


def summary(customer: dict | None, s: Summary) -> dict[str, Any]:
    nd = s.next_due
    return {
        "customer": {"name": customer["name"], "currency": customer["currency"]} if customer else None,
        "totals": [{"currency": t.currency, "total_due": amount(t.total_due), "overdue": amount(t.overdue),
                    "credits_available": amount(t.credits_available)} for t in s.totals],
        "next_due": None if nd is None else {"invoice_id": str(nd.invoice_id), "number": nd.number,
                                             "due_date": nd.due_date.isoformat(), **money(nd.amount, nd.currency)},
        "open_invoices": s.open_invoices, "overdue_invoices": s.overdue_invoices,
    }


def statement(st: Statement, aging: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "currency": st.currency, "from": st.period_start.isoformat(), "to": st.period_end.isoformat(),
        "opening_balance": amount(st.opening_balance), "closing_balance": amount(st.closing_balance),
        "total_debits": amount(st.total_debits), "total_credits": amount(st.total_credits),
        "lines": [{"date": line.entry.on.isoformat(), "kind": line.entry.kind, "reference": line.entry.reference,
                   "debit": amount(line.entry.debit), "credit": amount(line.entry.credit),
                   "balance": amount(line.balance)} for line in st.lines],
        "aging": {bucket: amount(v) for bucket, v in aging.items()},
    }


def message(row: dict) -> dict[str, Any]:
    return {"id": str(row["message_id"]), "channel": row["channel"], "subject": row["subject"],
            "preview": row["preview"], "sent_at": _iso(row["sent_at"]), "status": row["status"],
            "status_at": _iso(row["status_at"]), "invoice_ids": row["invoice_ids"]}


def interaction(row: dict) -> dict[str, Any]:
    return {"kind": row["kind"], "summary": row["summary"], "occurred_at": _iso(row["occurred_at"]),
            "ref_id": str(row["ref_id"]) if row["ref_id"] else None}


def request(row: dict) -> dict[str, Any]:
    return {"id": str(row["request_id"]), "kind": row["kind"], "status": row["status"], "note": row["note"],
            "invoice_ids": row["invoice_ids"], "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]), "detail": row["payload"]}


def credit_note(row: dict) -> dict[str, Any]:
    return {"id": str(row["credit_note_id"]), "number": row["number"], "issue_date": row["issue_date"].isoformat(),
            "currency": row["currency"], "amount": amount(row["amount"]), "available": amount(row["available"]),
            "reason": row["reason"]}


def audit(row: dict) -> dict[str, Any]:
    return {"at": _iso(row["at"]), "contact_id": str(row["contact_id"]) if row["contact_id"] else None,
            "action": row["action"], "detail": row["detail"], "ip": row["ip"]}


