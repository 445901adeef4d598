"""Import jobs: an upload is stored with its job, a worker imports it chunk by chunk.

Each chunk (its ledger rows, outbox rows, error rows and the job's progress) commits in one
transaction, so a crash resumes after the last committed chunk and nothing is half-written.
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.observability import get_logger
from rapport_shared.time import Clock

from rapport_ingest.adapters import bulk, jobs
from rapport_ingest.domain.errors import LedgerError
from rapport_ingest.domain.presets import Preset, preset_for
from rapport_ingest.domain.rows import RowError, parse_lines, validate
from rapport_ingest.service_layer import customers, payments
from rapport_ingest.service_layer.bulk_events import invoice_record, uuid7_batch
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

log = get_logger(__name__)
Errors = list[tuple[int, str | None, str]]


class ChunkImporter:
    """Imports parsed rows of one kind for one tenant, a chunk per transaction."""

    def __init__(self, engine: AsyncEngine, outbox: Outbox, topics: TopicNames, clock: Clock, chunk_rows: int) -> None:
        self._engine, self._outbox, self._topics, self._clock = engine, outbox, topics, clock
        self._chunk_rows = chunk_rows

    async def run(self, job_id: UUID, tenant_id: UUID, kind: str, preset: Preset,
                  records: Iterable[tuple[int, dict | RowError]], *, skip: int = 0) -> None:
        for chunk in _chunks(itertools.islice(records, skip, None), self._chunk_rows):
            commands, errors = _validated(kind, preset, chunk)
            async with self._engine.begin() as conn:
                done = await self._import(conn, job_id, tenant_id, kind, commands, errors)
                await bulk.record_progress(await _driver(conn), job_id, done, errors)
            await asyncio.sleep(0)  # let the API answer between chunks

    async def _import(self, conn: AsyncConnection, job_id: UUID, tenant_id: UUID, kind: str,
                      commands: list[tuple[int, Any]], errors: Errors) -> int:
        session = AsyncSession(bind=conn)
        uow = UnitOfWork(session, tenant_id, self._outbox, self._clock)
        if kind == "invoices":
            return await self._invoices(conn, uow, job_id, commands, errors)
        return await _one_by_one(uow, kind, commands, errors)

    async def _invoices(self, conn: AsyncConnection, uow: UnitOfWork, job_id: UUID,
                        commands: list[tuple[int, Any]], errors: Errors) -> int:
        latest = {c.number: (n, c) for n, c in commands}  # the last row of a number wins within a chunk
        by_external = await self._customers(conn, uow, latest.values(), errors)
        staged, external_of = [], {}
        fresh = iter(uuid7_batch(len(latest), self._clock.now()))
        for number, command in latest.values():
            customer_id = by_external.get(command.customer_external_id)
            if customer_id is None:
                continue
            external_of[customer_id] = command.customer_external_id
            staged.append((number, next(fresh), customer_id, command.number, command.issue_date, command.due_date,
                           command.currency, command.amount, command.tax_amount, command.po_number,
                           command.terms, command.pdf_url))
        driver = await _driver(conn)
        changed, rejected = await bulk.upsert_invoices(driver, uow.tenant_id, staged)
        errors.extend((row, "number", reason) for row, reason in rejected)
        at = self._clock.now()
        event_ids = uuid7_batch(len(changed), at)
        await bulk.copy_outbox(driver, [
            invoice_record(self._topics, uow.tenant_id, r, external_of.get(r["customer_id"]), correlation_id=job_id,
                           at=at, event_id=event_id) for r, event_id in zip(changed, event_ids)])
        await uow.session.flush()
        return len(commands) - len(rejected) - sum(1 for _, c in commands if c.customer_external_id not in by_external)

    async def _customers(self, conn: AsyncConnection, uow: UnitOfWork, rows, errors: Errors) -> dict[str, UUID]:
        """Known customers by external id; unknown ones are created when the row names them."""
        rows = list(rows)
        known = await bulk.customers_by_external(await _driver(conn), uow.tenant_id, {c.customer_external_id for _, c in rows})
        for number, command in rows:
            ext = command.customer_external_id
            if ext in known:
                continue
            if not command.customer_name:
                errors.append((number, "customer_external_id", f"unknown customer {ext!r}"))
                continue
            known[ext] = (await customers.ensure_customer(uow, ext, command.customer_name, command.currency)).id
        await uow.session.flush()
        return known


async def _one_by_one(uow: UnitOfWork, kind: str, commands: list[tuple[int, Any]], errors: Errors) -> int:
    """Customers and payments go through the same handlers as the API, a savepoint per row."""
    done = 0
    for number, command in commands:
        try:
            async with uow.session.begin_nested():
                if kind == "customers":
                    await customers.upsert_customer(uow, command.external_id, command)
                else:
                    await payments.record_payment(uow, command, source="import")
            done += 1
        except LedgerError as exc:
            errors.append((number, exc.field, exc.reason))
    await uow.session.flush()
    return done


def _validated(kind: str, preset: Preset, chunk: list) -> tuple[list[tuple[int, Any]], Errors]:
    commands, errors = [], []
    for number, raw in chunk:
        if isinstance(raw, RowError):
            errors.append((raw.row, raw.field, raw.reason))
            continue
        result = validate(kind, preset, number, raw)
        if isinstance(result, list):
            errors.extend((e.row, e.field, e.reason) for e in result)
        else:
            commands.append((number, result))
    return commands, errors


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def _driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under SQLAlchemy's, for COPY (same transaction).

    SQLAlchemy's asyncpg adapter opens the transaction on its first statement; without one,
    the driver's statements would each autocommit and a chunk would no longer be atomic.
    """
    await conn.exec_driver_sql("SELECT 1")
    raw = await conn.get_raw_connection()
    return raw.driver_connection


class ImportWorker:
    """Runs queued import jobs inside the API process; jobs are durable rows, so none is lost on restart."""

    def __init__(self, engine: AsyncEngine, outbox: Outbox, clock: Clock, settings: Any) -> None:
        self._engine = engine
        self._importer = ChunkImporter(engine, outbox, TopicNames(settings.topic_prefix), clock, settings.import_chunk_rows)
        self._poll_s = settings.import_poll_s
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = await self.run_one()
            except Exception as exc:  # noqa: BLE001 - a broken job must not stop the worker
                log.warning("import worker iteration failed", error=repr(exc))
                busy = False
            if not busy:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._poll_s)
                except asyncio.TimeoutError:
                    pass

    async def run_one(self) -> bool:
        async with self._engine.connect() as lock_conn:
            job = await jobs.claim(lock_conn)
            if job is None:
                return False
            try:
                await self._run_job(job)
            finally:
                await jobs.release(lock_conn, job.id)
        return True

    async def _run_job(self, job: Any) -> None:
        try:
            preset = preset_for(job.preset, job.kind, dict(job.mapping or {}))
            records = parse_lines(job.content.splitlines(keepends=True), job.format)
            await self._importer.run(job.id, job.tenant_id, job.kind, preset, records,
                                     skip=job.rows_done + job.rows_failed)
            await jobs.finish(self._engine, job.id, "completed", None)
        except Exception as exc:  # noqa: BLE001 - recorded on the job for the caller to see
            log.error("import job failed", job_id=str(job.id), error=repr(exc))
            await jobs.finish(self._engine, job.id, "failed", f"{type(exc).__name__}: {exc}"[:500])
