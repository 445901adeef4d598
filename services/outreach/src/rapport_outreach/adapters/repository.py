"""All SQL of the outreach service: messages, their events, suppressions, contacts."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import JSON, and_, bindparam, func, select, tuple_, type_coerce, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.dialects.postgresql import JSONB, distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_outreach.adapters.orm import contacts, dead_letters, message_events, messages, suppressions, templates
from rapport_outreach.adapters.template_repository import from_json, override_columns
from rapport_outreach.domain.catalog import TemplateOverride
from rapport_outreach.domain.model import State, normalise_address


# Built once: a statement built per call with .values(**row) costs more CPU than the round trip.
_INSERT_MESSAGE = (insert(messages).on_conflict_do_nothing(constraint="uq_messages_touchpoint_channel")
                   .returning(messages.c.id))

# The consumer's two statements per touchpoint also exist as plain SQL for the driver: through the ORM
# session each cost ~0.25 ms of CPU, about as much as the rest of the handler; straight through asyncpg
# (its cached prepared statement, on the session's own connection and transaction) ~0.03-0.06 ms.
_INSERT_COLUMNS = ("id", "tenant_id", "touchpoint_id", "customer_id", "contact_id", "channel", "provider", "state",
                   "to_address", "template_key", "locale", "subject", "body_text", "body_html", "invoice_ids",
                   "touchpoint", "correlation_id", "created_at", "updated_at", "next_attempt_at")
_JSON_COLUMNS = frozenset({"invoice_ids", "touchpoint"})
_INSERT_MESSAGE_SQL = (
    f"INSERT INTO {messages.fullname} ({', '.join(_INSERT_COLUMNS)}) VALUES ("
    + ", ".join(f"${i}::text::jsonb" if c in _JSON_COLUMNS else f"${i}" for i, c in enumerate(_INSERT_COLUMNS, 1))
    + ") ON CONFLICT ON CONSTRAINT uq_messages_touchpoint_channel DO NOTHING RETURNING id")


async def _driver(session: AsyncSession):  # noqa: ANN202 - an asyncpg Connection or None
    """The asyncpg connection under the session, if its transaction has begun on the server.

    SQLAlchemy's asyncpg adapter sends BEGIN with its first statement; before that a statement on the
    driver would run (and commit) on its own, so the caller takes the ORM path instead.
    """
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    return driver if driver.is_in_transaction() else None


def _as_sqlalchemy_error(statement: str, exc: Exception) -> Exception:
    """The error the ORM path would have raised, so the consumer classifies it the same way
    (a lost connection or a deadlock is retried, not dead-lettered)."""
    if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)):
        return OperationalError(statement, None, exc)
    return DBAPIError(statement, None, exc)


async def insert_message(session: AsyncSession, row: dict[str, Any]) -> bool:
    """False when this touchpoint already has a message on this channel (never send twice)."""
    driver = await _driver(session) if row.keys() == set(_INSERT_COLUMNS) else None
    if driver is None:
        return (await session.execute(_INSERT_MESSAGE, row)).first() is not None
    values = [json.dumps(row[c]) if c in _JSON_COLUMNS and row[c] is not None else row[c] for c in _INSERT_COLUMNS]
    values[_INSERT_COLUMNS.index("state")] = str(row["state"])
    try:
        return await driver.fetchval(_INSERT_MESSAGE_SQL, *values) is not None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise _as_sqlalchemy_error(_INSERT_MESSAGE_SQL, exc) from exc


async def get_message(session: AsyncSession, message_id: UUID):  # noqa: ANN201 - a Row
    return (await session.execute(select(messages).where(messages.c.id == message_id))).first()


async def message_by_provider_id(session: AsyncSession, provider_message_id: str):  # noqa: ANN201
    statement = select(messages).where(messages.c.provider_message_id == provider_message_id)
    return (await session.execute(statement)).first()


async def latest_message_to(session: AsyncSession, channel: str, address: str):  # noqa: ANN201
    statement = (select(messages).where(messages.c.channel == channel, func.lower(messages.c.to_address) == address)
                 .order_by(messages.c.created_at.desc()).limit(1))
    return (await session.execute(statement)).first()


async def latest_per_tenant(session: AsyncSession, channel: str, address: str, *,
                            only: list[UUID] | None = None, exclude: list[UUID] | None = None) -> list:
    """Each tenant's latest sent message to an address (several tenants may share a customer's contact)."""
    conditions = [messages.c.channel == channel, func.lower(messages.c.to_address) == address,
                  messages.c.state.not_in([State.QUEUED, State.SUPPRESSED, State.TASK])]
    if only is not None:
        conditions.append(messages.c.tenant_id.in_(only))
    if exclude:
        conditions.append(messages.c.tenant_id.not_in(exclude))
    statement = (select(messages).where(*conditions).ext(distinct_on(messages.c.tenant_id))
                 .order_by(messages.c.tenant_id, messages.c.created_at.desc()))
    return list((await session.execute(statement)).all())


# What the sender needs of a claimed message: every column but the stored touchpoint (a few KB of JSONB
# per row, decoded for every claim, was a fifth of the sender's CPU), and the two facts it reads from it.
_CLAIM_COLUMNS = (
    *(c for c in messages.c if c.name != "touchpoint"),
    func.jsonb_extract_path_text(messages.c.touchpoint, "recipient", "name").label("to_name"),
    func.jsonb_extract_path_text(messages.c.touchpoint, "send_not_after").label("send_not_after"),
    messages.c.touchpoint.is_not(None).label("has_touchpoint"),
)


async def claim_due(session: AsyncSession, now: datetime, limit: int, skip_providers: list[str]) -> list:
    """Queued messages whose time has come, locked so parallel senders never take the same one.

    Rows carry ``to_name``, ``send_not_after`` (ISO text or None) and ``has_touchpoint`` instead of the
    touchpoint itself; ``touchpoint_of`` reads it for the rare message that needs it (a late suppression).
    """
    statement = (select(*_CLAIM_COLUMNS).where(messages.c.state == State.QUEUED, messages.c.next_attempt_at <= now)
                 .order_by(messages.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
    if skip_providers:
        statement = statement.where(messages.c.provider.not_in(skip_providers))
    return list((await session.execute(statement)).all())


async def touchpoint_of(session: AsyncSession, message_id: UUID) -> dict | None:
    return (await session.execute(select(messages.c.touchpoint).where(messages.c.id == message_id))).scalar()


async def set_state(session: AsyncSession, message_id: UUID, state: str, now: datetime, **values: Any) -> None:
    await session.execute(update(messages).where(messages.c.id == message_id)
                          .values(state=state, updated_at=now, **values))


async def settle_uncertain(session: AsyncSession, message_id: UUID, state: str, now: datetime,
                           **values: Any):  # noqa: ANN201 - the updated Row, None when it was not uncertain
    statement = (update(messages).where(messages.c.id == message_id, messages.c.state == State.UNCERTAIN)
                 .values(state=state, updated_at=now, **values).returning(*messages.c))
    return (await session.execute(statement)).first()


async def mark_sending(session: AsyncSession, ids: list[UUID], now: datetime) -> None:
    await session.execute(update(messages).where(messages.c.id.in_(ids))
                          .values(state=State.SENDING, attempts=messages.c.attempts + 1, updated_at=now))


async def mark_sent(session: AsyncSession, sent: list[tuple[UUID, str | None]], now: datetime) -> None:
    """Record many provider answers in one statement (executed as one pipelined batch)."""
    if not sent:
        return
    statement = (update(messages).where(messages.c.id == bindparam("b_id"))
                 .values(state=State.SENT, updated_at=now, sent_at=now, last_error=None,
                         provider_message_id=bindparam("b_provider_id")))
    await session.execute(statement, [{"b_id": i, "b_provider_id": p} for i, p in sent])


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """History rows without provider ids (our own steps), many at once."""
    if rows:
        await session.execute(insert(message_events), rows)


async def sending_to_uncertain(session: AsyncSession, now: datetime) -> list:
    """Messages a crashed sender left mid-call: nobody knows if the provider got them."""
    statement = (update(messages).where(messages.c.state == State.SENDING)
                 .values(state=State.UNCERTAIN, updated_at=now,
                         last_error="sender stopped between calling the provider and recording its answer")
                 .returning(*messages.c))
    return list((await session.execute(statement)).all())


async def add_dead_letter(session: AsyncSession, message_id: UUID, tenant_id: UUID, attempts: int, reason: str) -> None:
    await session.execute(insert(dead_letters).values(message_id=message_id, tenant_id=tenant_id,
                                                      attempts=attempts, reason=reason).on_conflict_do_nothing())


async def add_event(session: AsyncSession, message_id: UUID, tenant_id: UUID, kind: str, occurred_at: datetime,
                    provider_event_id: str | None = None, detail: str | None = None) -> bool:
    """False when the provider already told us this (webhooks are at-least-once too)."""
    statement = (insert(message_events)
                 .values(message_id=message_id, tenant_id=tenant_id, kind=kind, occurred_at=occurred_at,
                         provider_event_id=provider_event_id, detail=detail)
                 .on_conflict_do_nothing().returning(message_events.c.id))
    return (await session.execute(statement)).first() is not None


async def suppressed(session: AsyncSession, keys: list[tuple[UUID, str, str]]) -> set[tuple[UUID, str, str]]:
    """Which (tenant, channel, address) keys are on the suppression list."""
    if not keys:
        return set()
    columns = tuple_(suppressions.c.tenant_id, suppressions.c.channel, suppressions.c.address)
    rows = await session.execute(select(suppressions.c.tenant_id, suppressions.c.channel, suppressions.c.address)
                                 .where(columns.in_(keys)))
    return {tuple(r) for r in rows}


async def add_suppression(session: AsyncSession, tenant_id: UUID, channel: str, address: str, reason: str,
                          contact_id: UUID | None) -> bool:
    address = normalise_address(channel, address)
    statement = (insert(suppressions).values(tenant_id=tenant_id, channel=channel, address=address, reason=reason,
                                             contact_id=contact_id)
                 .on_conflict_do_nothing().returning(suppressions.c.address))
    return (await session.execute(statement)).first() is not None


async def remove_suppression(session: AsyncSession, tenant_id: UUID, channel: str, address: str, reason: str) -> None:
    await session.execute(suppressions.delete().where(
        suppressions.c.tenant_id == tenant_id, suppressions.c.channel == channel,
        suppressions.c.address == address, suppressions.c.reason == reason))


async def upsert_contact(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep the newest version of a contact; older snapshots arriving late change nothing."""
    statement = insert(contacts).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=[contacts.c.tenant_id, contacts.c.contact_id],
        set_={k: statement.excluded[k] for k in row if k not in ("tenant_id", "contact_id")},
        where=contacts.c.version <= statement.excluded.version)
    await session.execute(statement)


async def get_contact(session: AsyncSession, tenant_id: UUID, contact_id: UUID | None):  # noqa: ANN201
    if contact_id is None:
        return None
    statement = select(contacts).where(contacts.c.tenant_id == tenant_id, contacts.c.contact_id == contact_id)
    return (await session.execute(statement)).first()


@dataclass(frozen=True)
class RecipientFacts:
    opted_out: frozenset[str]
    suppressed: frozenset[str]  # channels
    overrides: list[TemplateOverride]


def _recipient_facts_statement():  # noqa: ANN202 - built once; only the parameters change per touchpoint
    contact = (select(contacts.c.opted_out_channels)
               .where(contacts.c.tenant_id == bindparam("tenant"), contacts.c.contact_id == bindparam("contact"))
               .scalar_subquery())
    blocked = (select(func.array_agg(suppressions.c.channel))
               .where(suppressions.c.tenant_id == bindparam("tenant"),
                      tuple_(suppressions.c.channel, suppressions.c.address).in_(bindparam("keys", expanding=True)))
               .scalar_subquery())
    chosen = (select(func.json_agg(override_columns(), type_=JSON))
              .where(templates.c.tenant_id == bindparam("tenant"), templates.c.key == bindparam("key"),
                     templates.c.locale == bindparam("locale"))
              .scalar_subquery())
    return select(contact.label("opted_out"), blocked.label("suppressed"), chosen.label("overrides"))


_RECIPIENT_FACTS = _recipient_facts_statement()


_RECIPIENT_FACTS_SQL = f"""
SELECT
  (SELECT opted_out_channels::text FROM {contacts.fullname} WHERE tenant_id = $1 AND contact_id = $2),
  (SELECT array_agg(channel) FROM {suppressions.fullname}
    WHERE tenant_id = $1 AND (channel, address) IN (SELECT * FROM unnest($3::text[], $4::text[]))),
  (SELECT json_agg(json_build_object('key', key, 'tone', tone, 'locale', locale, 'segment', segment,
                                     'subject', subject, 'text', body_text, 'html', body_html, 'sms', sms))::text
     FROM {templates.fullname} WHERE tenant_id = $1 AND key = $5 AND locale = $6)
"""


async def recipient_facts(session: AsyncSession, tenant_id: UUID, contact_id: UUID | None,
                          keys: list[tuple[str, str]], template_key: str, locale: str) -> RecipientFacts:
    """Opt-outs, suppressed channels and template overrides in one round trip (it was three per touchpoint)."""
    driver = await _driver(session)
    if driver is not None:
        arguments = (tenant_id, contact_id, [c for c, _ in keys], [a for _, a in keys], template_key, locale)
        try:
            opted_out, suppressed_channels, overrides = await driver.fetchrow(_RECIPIENT_FACTS_SQL, *arguments)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise _as_sqlalchemy_error(_RECIPIENT_FACTS_SQL, exc) from exc
        return RecipientFacts(frozenset(json.loads(opted_out) if opted_out else ()), frozenset(suppressed_channels or ()),
                              [from_json(item) for item in (json.loads(overrides) if overrides else ())])
    row = (await session.execute(_RECIPIENT_FACTS, {
        "tenant": tenant_id, "contact": contact_id, "keys": keys or [("", "")], "key": template_key,
        "locale": locale})).one()
    return RecipientFacts(frozenset(row.opted_out or ()), frozenset(row.suppressed or ()),
                          [from_json(item) for item in row.overrides or ()])


async def contacts_by_address(session: AsyncSession, channel: str, address: str) -> list:
    column = contacts.c.email if channel == "email" else contacts.c.phone
    return list((await session.execute(select(contacts).where(func.lower(column) == address))).all())


async def history(session: AsyncSession, tenant_id: UUID, customer_id: UUID | None, invoice_id: UUID | None,
                  limit: int) -> list[tuple[Any, list]]:
    conditions = [messages.c.tenant_id == tenant_id]
    if customer_id:
        conditions.append(messages.c.customer_id == customer_id)
    if invoice_id:
        conditions.append(type_coerce(messages.c.invoice_ids, JSONB).contains([str(invoice_id)]))
    rows = list((await session.execute(select(messages).where(and_(*conditions))
                                       .order_by(messages.c.created_at.desc()).limit(limit))).all())
    events = await session.execute(select(message_events).where(message_events.c.message_id.in_([r.id for r in rows]))
                                   .order_by(message_events.c.occurred_at))
    by_message: dict[UUID, list] = {}
    for event in events:
        by_message.setdefault(event.message_id, []).append(event)
    return [(row, by_message.get(row.id, [])) for row in rows]


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(messages.c.state, func.count()).group_by(messages.c.state))
    return {state: n for state, n in rows}


