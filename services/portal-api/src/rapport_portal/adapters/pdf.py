"""PDF documents rendered with fpdf2: an invoice the ERP gave no PDF for, and a statement of account."""
from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF

from rapport_portal.domain.statement import Statement


def _text(value: object) -> str:
    # The built-in PDF fonts are Latin-1 only; anything else is shown as '?' rather than failing.
    return str(value if value is not None else "").encode("latin-1", "replace").decode("latin-1")


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Rapport portal")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    return pdf


def _row(pdf: FPDF, cells: list[tuple[str, int]], bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    for value, width in cells:
        pdf.cell(width, 7, _text(value), border="B")
    pdf.ln()


def invoice_pdf(invoice: dict, customer: dict | None) -> bytes:
    pdf = _document(f"Invoice {invoice['number']}")
    lines = [
        ("Customer", (customer or {}).get("name", "")),
        ("Issue date", invoice["issue_date"].isoformat()),
        ("Due date", invoice["due_date"].isoformat()),
        ("PO number", invoice.get("po_number") or "-"),
        ("Terms", invoice.get("terms") or "-"),
        ("Tax", _money(invoice["tax_amount"], invoice["currency"])),
        ("Total", _money(invoice["amount_total"], invoice["currency"])),
        ("Open amount", _money(invoice["open_amount"], invoice["currency"])),
        ("Status", invoice["status"].replace("_", " ")),
    ]
    for label, value in lines:
        _row(pdf, [(label, 50), (value, 120)])
    return bytes(pdf.output())


def statement_pdf(statement: Statement, aging: dict[str, Decimal], customer: dict | None) -> bytes:
    cur = statement.currency
    pdf = _document("Statement of account")
    pdf.cell(0, 7, _text(f"{(customer or {}).get('name', '')}  -  {statement.period_start} to {statement.period_end}"),
             new_x="LMARGIN", new_y="NEXT")
    _row(pdf, [("Date", 28), ("Type", 30), ("Reference", 50), ("Debit", 28), ("Credit", 28), ("Balance", 28)], bold=True)
    _row(pdf, [("", 28), ("opening", 30), ("", 50), ("", 28), ("", 28), (f"{statement.opening_balance:,.2f}", 28)])
    for line in statement.lines:
        e = line.entry
        _row(pdf, [(e.on.isoformat(), 28), (e.kind.replace("_", " "), 30), (e.reference, 50),
                   (f"{e.debit:,.2f}" if e.debit else "", 28), (f"{e.credit:,.2f}" if e.credit else "", 28),
                   (f"{line.balance:,.2f}", 28)])
    _row(pdf, [("", 28), ("closing", 30), ("", 50), (f"{statement.total_debits:,.2f}", 28),
               (f"{statement.total_credits:,.2f}", 28), (_money(statement.closing_balance, cur), 28)], bold=True)
    pdf.ln(6)
    pdf.cell(0, 7, _text(f"Aging of open invoices at {statement.period_end} ({cur})"), new_x="LMARGIN", new_y="NEXT")
    _row(pdf, [(bucket, 31) for bucket in aging], bold=True)
    _row(pdf, [(f"{amount:,.2f}", 31) for amount in aging.values()])
    return bytes(pdf.output())
