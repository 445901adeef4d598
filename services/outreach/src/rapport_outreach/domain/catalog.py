"""Which template a message uses: a tenant's override if one matches, else the shipped default.

Overrides are keyed by template key, tone, locale and segment; an empty tone or segment
matches any. The most specific match wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from uuid import UUID

from rapport_shared.contracts.touchpoint import Collector, CustomerRef, Recipient, TouchInvoice, TouchpointDueV1

from rapport_outreach.domain import context as ctx
from rapport_outreach.domain.defaults import LOCALES, TEMPLATE_KEYS, layout
from rapport_outreach.domain.errors import TemplateInvalid
from rapport_outreach.domain.templates import TemplateSource

TONES = ("friendly", "neutral", "firm", "final")


@dataclass(frozen=True)
class TemplateOverride:
    key: str
    tone: str  # "" = any tone
    locale: str
    segment: str  # "" = any segment
    source: TemplateSource


@lru_cache(maxsize=64)
def default_source(key: str, locale: str) -> TemplateSource:
    if key not in TEMPLATE_KEYS:
        raise TemplateInvalid(f"unknown template key {key!r}; known: {', '.join(TEMPLATE_KEYS)}", field="key")
    return layout.build(LOCALES[locale], key)


def sign_off(locale: str, tone: str) -> str:
    return LOCALES[locale].LABELS["sign_off"].get(tone, LOCALES[locale].LABELS["sign_off"]["neutral"])


def choose(overrides: list[TemplateOverride], key: str, tone: str, locale: str, segment: str | None) -> TemplateSource:
    def score(o: TemplateOverride) -> int | None:
        if o.key != key or o.locale != locale or o.tone not in ("", tone) or o.segment not in ("", segment or ""):
            return None
        return (2 if o.segment else 0) + (1 if o.tone else 0)

    ranked = [(s, o) for o in overrides if (s := score(o)) is not None]
    if ranked:
        return max(ranked, key=lambda pair: pair[0])[1].source
    return default_source(key, locale)


def sample_touchpoint(full: bool, locale: str = "en") -> TouchpointDueV1:
    """A believable customer to preview and validate templates against."""
    invoices = [
        TouchInvoice(invoice_id=UUID(int=1), number="INV-1043", issue_date=date(2026, 1, 5),
                     due_date=date(2026, 2, 4), currency="EUR", amount_total=Decimal("1250.00"),
                     open_amount=Decimal("1250.00"), days_overdue=12),
        TouchInvoice(invoice_id=UUID(int=2), number="INV-1058", issue_date=date(2026, 1, 19),
                     due_date=date(2026, 2, 18), currency="EUR", amount_total=Decimal("830.40"),
                     open_amount=Decimal("430.40"), days_overdue=0),
    ]
    extras = dict(collector=Collector(name="Camille Martin", title="Accounts receivable", email="camille@example.com",
                                      phone="+33 1 23 45 67 89"),
                  early_pay_discount_percent=Decimal("2"), promised_date=date(2026, 2, 27),
                  instalment_due_date=date(2026, 3, 1), instalment_amount=Decimal("560.10")) if full else {}
    return TouchpointDueV1(
        touchpoint_id=UUID(int=9), customer=CustomerRef(customer_id=UUID(int=7), name="Northwind Traders",
                                                        segment="smb"),
        recipient=Recipient(contact_id=UUID(int=8), name="Alex Dupont", email="alex@example.com",
                            phone="+33612345678", locale=locale),
        channel="email", template_key="overdue_gentle", tone="friendly", stage="overdue", step_offset_days=7,
        currency="EUR", total_open=Decimal("1680.40"), invoices=invoices, **extras)


def sample_contexts(key: str, locale: str, tone: str, company: str) -> list[dict]:
    """Contexts a template must render with: every optional value present, and every one absent."""
    if key == "magic_link":
        expires = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
        return [ctx.magic_link_context("Alex Dupont", "https://portal.example.com/portal/login?token=sample"
                                       + "x" * 200, expires, locale, company)]
    links = ctx.Links("https://portal.example.com/portal/login?token=" + "x" * 280,
                      "https://portal.example.com/portal/login?token=" + "x" * 280 + "&next=pay")
    return [ctx.touchpoint_context(sample_touchpoint(full, locale), links, company, sign_off(locale, tone))
            for full in (True, False)]
