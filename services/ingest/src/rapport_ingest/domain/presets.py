"""Column mappings of common ERP exports onto the ledger's field names.

A preset maps each ledger field to the export's column(s) (first present wins) and says
how the export writes dates. ``custom`` takes the mapping from the caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rapport_ingest.domain.values import calendar_date


@dataclass(frozen=True)
class Preset:
    name: str
    columns: dict[str, tuple[str, ...]]
    date_formats: tuple[str, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)

    def map_row(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The row with ledger field names; columns the preset does not know are dropped."""
        out: dict[str, Any] = dict(self.defaults)
        for target, sources in self.columns.items():
            for source in sources:
                value = raw.get(source)
                if value not in (None, ""):
                    out[target] = value
                    break
        for key in ("issue_date", "due_date", "received_on"):
            if key in out:
                out[key] = self.parse_date(out[key])
        return out

    def is_summary(self, raw: dict[str, Any]) -> bool:
        """A report's totals row ("Total", "TOTAL Amy's Bird Sanctuary"): it carries no record of its own."""
        keys = self.columns.get("number") or self.columns.get("external_id") or ()
        if any(str(raw.get(k) or "").strip() for k in keys):
            return False
        return any(isinstance(v, str) and v.strip().lower().startswith("total") for v in raw.values())

    def parse_date(self, value: Any) -> Any:
        """A date in one of the preset's formats; anything unparseable is left for validation to name."""
        if isinstance(value, date) or not self.date_formats:
            return value
        for fmt in self.date_formats:
            try:
                return datetime.strptime(str(value).strip(), fmt).date()
            except ValueError:
                continue
        return value


def _identity(fields: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {f: (f,) for f in fields}


INVOICE_FIELDS = ("number", "customer_external_id", "customer_name", "issue_date", "due_date", "currency",
                  "amount", "tax_amount", "po_number", "terms", "pdf_url", "updated_at", "lines")
CUSTOMER_FIELDS = ("external_id", "name", "currency", "country", "time_zone", "locale", "payment_terms_days",
                   "size", "industry", "region", "credit_limit")
PAYMENT_FIELDS = ("external_id", "customer_external_id", "amount", "currency", "received_on", "method",
                  "reference", "remittance_text")
NATIVE_FIELDS = {"invoices": INVOICE_FIELDS, "customers": CUSTOMER_FIELDS, "payments": PAYMENT_FIELDS}
US_DATES = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d")

PRESETS: dict[str, dict[str, Preset]] = {
    # QuickBooks Online: Reports > Invoice List / Open Invoices, exported to CSV. QBO has no
    # customer id in these reports, so the customer's display name is the external id.
    "quickbooks": {"invoices": Preset("quickbooks", {
        "number": ("Num", "No.", "Invoice no."), "customer_external_id": ("Customer", "Name"),
        "customer_name": ("Customer", "Name"), "issue_date": ("Date", "Invoice date"),
        "due_date": ("Due date", "Due Date"), "amount": ("Amount", "Total"), "currency": ("Currency",),
        "po_number": ("P.O. Number", "PO Number"), "terms": ("Terms",),
    }, US_DATES, {"currency": "USD"})},
    # Xero: Business > Invoices > Export (CSV).
    "xero": {"invoices": Preset("xero", {
        "number": ("InvoiceNumber", "*InvoiceNumber"), "customer_external_id": ("ContactName", "*ContactName"),
        "customer_name": ("ContactName", "*ContactName"), "issue_date": ("InvoiceDate", "*InvoiceDate"),
        "due_date": ("DueDate", "*DueDate"), "amount": ("Total",), "tax_amount": ("TaxTotal",),
        "currency": ("Currency",), "po_number": ("Reference",),
    }, ("%Y-%m-%d", "%d/%m/%Y", "%d %b %Y"))},
    # NetSuite: a transaction saved search exported to CSV.
    "netsuite": {"invoices": Preset("netsuite", {
        "number": ("Document Number", "Number"), "customer_external_id": ("Customer Internal ID", "Name"),
        "customer_name": ("Name", "Customer"), "issue_date": ("Date",),
        "due_date": ("Due Date/Receive By", "Due Date"),
        # The foreign-currency amount is in the invoice's own currency; "Amount" is in the base currency.
        "amount": ("Amount (Foreign Currency)", "Amount (Gross)", "Amount"),
        "tax_amount": ("Amount (Tax)",), "currency": ("Currency",), "po_number": ("PO/Check Number",),
        "terms": ("Terms",),
    }, US_DATES)},
}


def preset_for(name: str, kind: str, mapping: dict[str, Any] | None = None) -> Preset:
    """Raises KeyError/ValueError naming what is wrong, for a 422 on the upload itself."""
    if name == "custom":
        if not mapping:
            raise ValueError("the custom preset needs a mapping {ledger_field: column}")
        formats = tuple(mapping.pop("date_formats", ()) or ())
        columns = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in mapping.items()}
        unknown = set(columns) - set(NATIVE_FIELDS[kind])
        if unknown:
            raise ValueError(f"mapping names unknown fields {sorted(unknown)}")
        return Preset("custom", columns, formats)
    if name in ("native", "", None):
        return Preset("native", _identity(NATIVE_FIELDS[kind]))
    try:
        return PRESETS[name][kind]
    except KeyError:
        raise ValueError(f"preset {name!r} has no mapping for {kind}") from None
