"""Paying through Stripe Checkout, asking for a call back, and setting contact preferences."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision

from rapport_shared.contracts import portal as ev

from rapport_portal.adapters import portal_state, queries
from rapport_portal.domain import commands as cmd
from rapport_portal.domain.errors import Invalid
from rapport_portal.domain.money import to_minor_units
from rapport_portal.service_layer.actions import _base, _record, owned_open_invoices
from rapport_portal.domain.checkout import CheckoutRequest
from rapport_portal.service_layer.context import Portal, Principal
from rapport_portal.service_layer.views import scope_of

MAX_INVOICES_PER_PAYMENT = 50


async def pay(portal: Portal, who: Principal, c: cmd.PayInvoices) -> tuple[ev.PaymentInitiatedV1, str]:
    """Open a Stripe Checkout Session; the ledger learns of the payment only from Stripe's webhook."""
    if len(c.invoice_ids) > MAX_INVOICES_PER_PAYMENT:
        raise Invalid(f"at most {MAX_INVOICES_PER_PAYMENT} invoices per payment", "invoice_ids")
    async with portal.sessions() as session:
        rows = await owned_open_invoices(session, who, c.invoice_ids)
        contact = await queries.contact(session, scope_of(who), who.contact_id)
    currency = rows[0]["currency"]
    exponent = get_currency_precision(currency)
    base = _base(portal, who)
    request = CheckoutRequest(
        request_id=base["request_id"], tenant_id=who.tenant_id, customer_id=who.customer_id, currency=currency,
        lines=[(f"Invoice {r['number']}", to_minor_units(r["open_amount"], exponent)) for r in rows],
        invoice_ids=[r["invoice_id"] for r in rows], customer_email=(contact or {}).get("email"),
        success_url=c.success_url or f"{portal.base_url.rstrip('/')}/portal?paid=1",
        cancel_url=c.cancel_url or f"{portal.base_url.rstrip('/')}/portal/invoices",
    )
    checkout = await portal.checkout.create_checkout(request)
    payload = ev.PaymentInitiatedV1(**base, checkout_session_id=checkout.id, invoice_ids=request.invoice_ids,
                                    amount=sum((r["open_amount"] for r in rows), Decimal("0")), currency=currency)
    async with portal.unit_of_work() as session:
        await _record(portal, session, who, "payment", "initiated", payload, payload.invoice_ids)
    return payload, checkout.url


async def request_callback(portal: Portal, who: Principal, c: cmd.RequestCallback) -> ev.CallbackRequestedV1:
    payload = ev.CallbackRequestedV1(**_base(portal, who), phone=c.phone, preferred_time=c.preferred_time, note=c.note)
    async with portal.unit_of_work() as session:
        await _record(portal, session, who, "callback", "requested", payload, [])
    return payload


async def set_preferences(portal: Portal, who: Principal, c: cmd.SetPreferences) -> ev.ContactPreferencesChangedV1:
    payload = ev.ContactPreferencesChangedV1(**_base(portal, who), preferred_channel=c.preferred_channel,
                                             locale=c.locale, opted_out_channels=c.opted_out_channels)
    async with portal.unit_of_work() as session:
        # Shown at once; the ledger's next contact snapshot (newer version) stays authoritative.
        changes = {"opted_out_channels": list(c.opted_out_channels)}
        changes |= {k: v for k, v in (("preferred_channel", c.preferred_channel), ("locale", c.locale)) if v}
        await portal_state.update_contact(session, who.tenant_id, who.contact_id, changes)
        await _record(portal, session, who, "preferences", "requested", payload, [])
    return payload
