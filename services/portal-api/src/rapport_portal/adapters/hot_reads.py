"""The hot read path on a plain asyncpg pool: one prepared statement per round trip, no ORM session.

On a request that only reads, SQLAlchemy's session, pool pre-ping and result machinery cost
several times the query itself. These statements are fixed text (schema-qualified, every value
a bind parameter), so asyncpg prepares each once per connection and then only binds and runs it.
"""
from __future__ import annotations

import asyncio
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

from rapport_portal.adapters.queries import InvoiceQuery, Scope

LIST_COLUMNS = ("invoice_id, number, status, issue_date, due_date, currency, amount_total, tax_amount, "
                "open_amount, po_number, terms, pdf_url, paid_at, dunning_stage, last_touch_at")
SORT_SQL = {"due_date": "due_date", "issue_date": "issue_date", "number": "number",
            "amount": "amount_total", "open_amount": "open_amount"}
OPEN_SQL = "status IN ('open', 'partially_paid') AND open_amount > 0"
STATUS_SQL = {"all": "", "open": f" AND {OPEN_SQL}", "overdue": f" AND {OPEN_SQL} AND due_date < {{today}}",
              "paid": " AND status = 'paid'"}


class _NoResetConnection(asyncpg.Connection):
    """Skips the reset query asyncpg sends when a connection goes back to the pool (a round trip
    per request): this pool only runs the plain reads below, which leave no session state,
    LISTEN, advisory lock or cursor behind. An open transaction is still rolled back by asyncpg."""

    def get_reset_query(self) -> str:
        return ""


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@lru_cache(maxsize=64)
def list_sql(schema: str, status: str, searching: bool, sort: str, descending: bool) -> tuple[str, str, tuple[str, ...]]:
    """(page with its total, count alone, names of the extra parameters) for one query shape.

    Built from allow-listed parts only; every value is a bind parameter, numbered as used
    (Postgres cannot prepare a statement with a parameter it never sees).
    """
    extra = ("today",) * (status == "overdue") + ("pattern",) * searching
    slots = {name: f"${n}" for n, name in enumerate(extra, start=3)}
    where = "tenant_id = $1 AND customer_id = $2" + STATUS_SQL[status].format(**slots)
    if searching:
        where += f" AND (number ILIKE {slots['pattern']} OR po_number ILIKE {slots['pattern']})"
    order = f"{SORT_SQL[sort]} {'DESC' if descending else 'ASC'}, invoice_id"
    limit, offset = f"${len(extra) + 3}", f"${len(extra) + 4}"
    page = (f"SELECT {LIST_COLUMNS}, count(*) OVER () AS total FROM {schema}.invoices WHERE {where} "
            f"ORDER BY {order} LIMIT {limit} OFFSET {offset}")
    return page, f"SELECT count(*) FROM {schema}.invoices WHERE {where}", extra


def _pattern(search: str) -> str:
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class HotReads:
    """Opened lazily on first use (so a synchronous composition root can build it), closed by the lifespan."""

    def __init__(self, database_url: str, schema: str, max_size: int = 10) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._session_sql = (
            f"SELECT s.tenant_id, s.customer_id, s.contact_id, s.csrf_token, coalesce(v.version, 0) AS read_version "
            f"FROM {schema}.sessions s LEFT JOIN {schema}.read_versions v "
            f"ON v.tenant_id = s.tenant_id AND v.customer_id = s.customer_id "
            f"WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.revoked_at IS NULL")

    async def _ready(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._max_size, connection_class=_NoResetConnection)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def session(self, token_hash: str, now: datetime) -> asyncpg.Record | None:
        """A live session with its customer's invoice-list version, in the same round trip."""
        return await (await self._ready()).fetchrow(self._session_sql, token_hash, now)

    async def invoice_page(self, scope: Scope, q: InvoiceQuery, today: date) -> tuple[list[asyncpg.Record], int]:
        page, count, extra = list_sql(self._schema, q.status, bool(q.search), q.sort, q.descending)
        values = {"today": today, "pattern": _pattern(q.search or "")}
        args: list[Any] = [scope.tenant_id, scope.customer_id, *(values[name] for name in extra)]
        pool = await self._ready()
        async with pool.acquire() as conn:
            rows = await conn.fetch(page, *args, q.limit, q.offset)
            if rows:
                return rows, rows[0]["total"]
            return rows, await conn.fetchval(count, *args)
