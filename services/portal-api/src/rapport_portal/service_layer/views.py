"""What a signed-in contact can see: summary, invoices, statement, history."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from rapport_portal.adapters import queries
from rapport_portal.domain.account import AGING_BUCKETS, ZERO, OpenItem, Summary, aging_table, summarise
from rapport_portal.domain.errors import Invalid, NotFound
from rapport_portal.domain.money import totals_by_currency
from rapport_portal.domain.statement import LedgerEntry, Statement, build_statement
from rapport_portal.service_layer.context import Portal, Principal


def scope_of(who: Principal) -> queries.Scope:
    return queries.Scope(who.tenant_id, who.customer_id)


def today(portal: Portal) -> date:
    return portal.clock.now().date()


def _item(row: dict) -> OpenItem:
    return OpenItem(row["invoice_id"], row["number"], row["due_date"], row["currency"], row["open_amount"], row["status"])


async def customer(portal: Portal, who: Principal) -> dict | None:
    async with portal.reads() as session:
        return await queries.customer(session, scope_of(who))


async def summary(portal: Portal, who: Principal) -> tuple[dict | None, Summary]:
    async with portal.reads() as session:
        customer = await queries.customer(session, scope_of(who))
        rows = await queries.all_invoices(session, scope_of(who))
        credits = await queries.credit_notes_of(session, scope_of(who))
    available = totals_by_currency((c["currency"], c["available"]) for c in credits)
    return customer, summarise([_item(r) for r in rows], available, today(portal))


async def list_invoices(portal: Portal, who: Principal, q: queries.InvoiceQuery) -> tuple[list, int]:
    if q.sort not in queries.SORTS:
        raise Invalid(f"sort must be one of {', '.join(queries.SORTS)}", "sort")
    return await portal.hot.invoice_page(scope_of(who), q, today(portal))


async def invoice_list_body(portal: Portal, who: Principal, q: queries.InvoiceQuery,
                            render: Callable[[list, int, date], bytes]) -> bytes:
    """The rendered page, from the cache while the customer's invoices are unchanged since it was built."""
    key = (who.tenant_id, who.customer_id, q, today(portal))
    body = portal.list_cache.get(key, who.read_version)
    if body is None:
        # Rows read now are at least as new as read_version, so filing them under it is safe.
        rows, total = await list_invoices(portal, who, q)
        body = render(rows, total, key[-1])
        portal.list_cache.put(key, who.read_version, body)
    return body


async def invoice(portal: Portal, who: Principal, invoice_id: UUID) -> dict:
    async with portal.reads() as session:
        row = await queries.invoice(session, scope_of(who), invoice_id)
        if row is None:
            raise NotFound("no such invoice", "invoice_id")
        row["disputes"] = [r for r in await queries.requests_of(session, scope_of(who), "dispute")
                           if str(invoice_id) in r["invoice_ids"]]
    return row


async def download_invoice(portal: Portal, who: Principal, invoice_id: UUID) -> tuple[dict, dict | None]:
    async with portal.unit_of_work() as session:
        row = await queries.invoice(session, scope_of(who), invoice_id)
        if row is None:
            raise NotFound("no such invoice", "invoice_id")
        customer = await queries.customer(session, scope_of(who))
        await portal.audit(session, who, "invoice_downloaded", invoice_id=str(invoice_id))
    return row, customer


async def statement(portal: Portal, who: Principal, start: date, end: date, currency: str | None) -> tuple[Statement, dict, dict | None]:
    if end < start:
        raise Invalid("period end is before its start", "to")
    async with portal.reads() as session:
        customer = await queries.customer(session, scope_of(who))
        rows = await queries.all_invoices(session, scope_of(who))
        paid = await queries.payments_of(session, scope_of(who))
        credits = await queries.credit_notes_of(session, scope_of(who))
    currency = currency or (customer["currency"] if customer else (rows[0]["currency"] if rows else "EUR"))
    entries = _entries(rows, paid, credits, currency)
    open_then = [_item(r) for r in rows if r["currency"] == currency and r["issue_date"] <= end]
    aging = aging_table(open_then, end).get(currency) or {b: ZERO for b in AGING_BUCKETS}
    return build_statement(entries, currency, start, end), aging, customer


def _entries(rows: list[dict], paid: list[dict], credits: list[dict], currency: str) -> list[LedgerEntry]:
    entries = [LedgerEntry(r["issue_date"], "invoice", r["number"], debit=r["amount_total"])
               for r in rows if r["currency"] == currency and r["status"] != "void"]
    for p in (p for p in paid if p["currency"] == currency):
        entries.append(LedgerEntry(p["received_on"], "payment", p["reference"] or "payment", credit=p["amount"]))
        if p["reversed_amount"]:
            entries.append(LedgerEntry(p["reversed_on"] or p["received_on"], "reversal",
                                       p["reference"] or "payment", debit=p["reversed_amount"]))
    entries += [LedgerEntry(c["issue_date"], "credit_note", c["number"], credit=c["amount"])
                for c in credits if c["currency"] == currency]
    return entries


async def history(portal: Portal, who: Principal, limit: int, offset: int) -> tuple[list[dict], list[dict]]:
    async with portal.reads() as session:
        sent = await queries.messages_of(session, scope_of(who), limit, offset)
        done = await queries.interactions_of(session, scope_of(who), limit, offset)
    return sent, done


async def requests(portal: Portal, who: Principal, kind: str | None) -> list[dict]:
    async with portal.reads() as session:
        return await queries.requests_of(session, scope_of(who), kind)


async def credit_notes(portal: Portal, who: Principal) -> list[dict]:
    async with portal.reads() as session:
        return await queries.credit_notes_of(session, scope_of(who))


async def contact(portal: Portal, who: Principal) -> dict:
    """The signed-in contact's own details and preferences (what the preferences form starts from)."""
    async with portal.reads() as session:
        row = await queries.contact(session, scope_of(who), who.contact_id)
    if row is None:
        raise NotFound("no such contact", "contact_id")
    return row
