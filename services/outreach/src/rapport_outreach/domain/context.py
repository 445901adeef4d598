"""The variables a template sees, localised with Babel (money and dates in the reader's locale)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime

from rapport_shared.contracts.touchpoint import TouchpointDueV1

from rapport_outreach.domain.defaults import LOCALES
from rapport_outreach.domain.money import format_money


@dataclass(frozen=True)
class Links:
    portal_url: str
    pay_url: str


@lru_cache(maxsize=256)
def babel_locale(tag: str | None) -> str:
    """A Babel locale for a contact's tag such as ``fr-CA``; English when unknown."""
    try:
        return str(Locale.parse((tag or "en").replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"


def template_locale(tag: str | None) -> str:
    """The language whose default texts we ship, falling back to English."""
    language = babel_locale(tag).split("_")[0]
    return language if language in LOCALES else "en"


def money(amount: Decimal, currency: str, locale: str) -> str:
    return format_money(amount, currency, locale)


@lru_cache(maxsize=8192)
def day(value: date | None, locale: str) -> str | None:
    # Due dates cluster on few days; formatting each (day, locale) once is plenty.
    return format_date(value, format="long", locale=locale) if value else None


def touchpoint_context(tp: TouchpointDueV1, links: Links, company_name: str, sign_off: str) -> dict[str, Any]:
    loc = babel_locale(tp.recipient.locale)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for inv in tp.invoices:
        totals[inv.currency] += inv.open_amount
    collector = tp.collector
    return {
        "contact_name": tp.recipient.name, "customer_name": tp.customer.name, "company_name": company_name,
        "invoices": [{"number": i.number, "issue_date": day(i.issue_date, loc), "due_date": day(i.due_date, loc),
                      "amount": money(i.open_amount, i.currency, loc), "days_overdue": i.days_overdue,
                      "pdf_url": i.pdf_url} for i in tp.invoices],
        "invoice_count": len(tp.invoices),
        "max_days_overdue": max((i.days_overdue for i in tp.invoices), default=0),
        "total": money(tp.total_open, tp.currency, loc),
        "totals": [money(v, c, loc) for c, v in sorted(totals.items())] or [money(tp.total_open, tp.currency, loc)],
        "portal_url": links.portal_url, "pay_url": links.pay_url,
        "collector": {"name": collector.name if collector else company_name,
                      "title": collector.title if collector else None,
                      "email": collector.email if collector else None,
                      "phone": collector.phone if collector else None},
        "discount": _discount(tp, loc), "sign_off": sign_off,
        "promised_date": day(tp.promised_date, loc),
        "instalment_due_date": day(tp.instalment_due_date, loc),
        "instalment_amount": money(tp.instalment_amount, tp.currency, loc) if tp.instalment_amount else None,
    }


def _discount(tp: TouchpointDueV1, loc: str) -> dict[str, Any] | None:
    percent = tp.early_pay_discount_percent
    if not percent:
        return None
    amount = (tp.total_open * percent / Decimal(100)).quantize(Decimal("0.01"))
    pay_by = min(i.due_date for i in tp.invoices) if tp.invoices else None
    return {"percent": format(percent.normalize(), "f"), "amount": money(amount, tp.currency, loc),
            "pay_by": day(pay_by, loc)}


def magic_link_context(contact_name: str, link_url: str, expires_at: datetime, tag: str, company: str) -> dict:
    loc = babel_locale(tag)
    return {"contact_name": contact_name, "link_url": link_url, "company_name": company,
            "expires_at": format_datetime(expires_at.astimezone(timezone.utc).replace(tzinfo=None), format="medium", locale=loc) + " UTC"}
