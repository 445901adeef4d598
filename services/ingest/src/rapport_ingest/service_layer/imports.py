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
from rapport_ingest.service_layer import customer_import, customers, payment_import, payments
from rapport_ingest.service_layer.invoice_import import InvoiceWriter, Prepared, prepare
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

log = get_logger(__name__)
WRITE_ATTEMPTS = 3  # a chunk racing the API for a new invoice number looks again and sees it
Errors = list[tuple[int, str | None, str]]


class ChunkImporter:
    """Imports parsed rows of one kind for one tenant, a chunk per transaction."""

    def __init__(self, engine: AsyncEngine, outbox: Outbox, topics: TopicNames, clock: Clock, chunk_rows: int,
                 prebuild: bool = True) -> None:
        self._engine, self._outbox, self._topics, self._clock = engine, outbox, topics, clock
        self._chunk_rows, self._prebuild = chunk_rows, prebuild

    async def run(self, job_id: UUID, tenant_id: UUID, kind: str, preset: Preset,
                  records: Iterable[tuple[int, dict | RowError]], *, skip: int = 0) -> None:
        chunks = _chunks(itertools.islice(records, skip, None), self._chunk_rows)
        if kind == "invoices":
            await self._invoices(job_id, tenant_id, preset, chunks)
            return
        for chunk in chunks:
            commands, errors = _validated(kind, preset, chunk)
            async with self._engine.begin() as conn:
                uow = UnitOfWork(AsyncSession(bind=conn), tenant_id, self._outbox, self._clock)
                if kind == "customers":
                    done = await customer_import.upsert_customers(uow, commands)
                elif kind == "payments":
                    done = await payment_import.import_payments(uow, commands, errors)
                else:
                    done = await _one_by_one(uow, kind, commands, errors)
                await bulk.record_progress(await _driver(conn), job_id, done, errors)
            await asyncio.sleep(0)  # let the API answer between chunks

    async def _invoices(self, job_id: UUID, tenant_id: UUID, preset: Preset, chunks: Iterator[list]) -> None:
        """Checks the next chunk and renders its rows as new invoices in a thread while Postgres writes
        this one (Python and Postgres each keep a core busy instead of taking turns)."""
        writer = InvoiceWriter(tenant_id, job_id, self._topics("invoice"))
        writer.prebuilding = True if self._prebuild else None
        pending = asyncio.ensure_future(asyncio.to_thread(_prepare_next, chunks, preset, writer, self._clock))
        try:
            while (prepared := await pending) is not None:
                pending = asyncio.ensure_future(asyncio.to_thread(_prepare_next, chunks, preset, writer, self._clock))
                await self._write_invoices(writer, job_id, tenant_id, prepared)
        finally:
            await asyncio.wait([pending])  # the thread holds the file; let it finish before leaving

    async def _write_invoices(self, writer: InvoiceWriter, job_id: UUID, tenant_id: UUID, prepared: Prepared) -> None:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                async with self._engine.begin() as conn:
                    driver = await _driver(conn)
                    uow = UnitOfWork(AsyncSession(bind=conn), tenant_id, self._outbox, self._clock)
                    done, errors = await writer.write(driver, uow, prepared, self._clock.now())
                    await bulk.record_progress(driver, job_id, done, errors)
                return
            except bulk.Contended:
                writer.forget_customers()  # the rolled-back chunk may have created some
                if attempt == WRITE_ATTEMPTS:
                    raise
            except BaseException:
                writer.forget_customers()
                raise


def _prepare_next(chunks: Iterator[list], preset: Preset, writer: InvoiceWriter, clock: Clock) -> Prepared | None:
    chunk = next(chunks, None)
    return None if chunk is None else writer.prebuild(prepare(chunk, preset), clock.now())


async def _one_by_one(uow: UnitOfWork, kind: str, commands: list[tuple[int, Any]], errors: Errors) -> int:
    """The API's handlers row by row, a savepoint per row; what every row would look up alone is
    looked up once per chunk (known external ids, named customers, the cash-application policy).
    Imports no longer come here (``customer_import``, ``payment_import`` are set-based); it stays as
    the reference those are tested against."""
    done = 0
    known = set() if kind != "payments" else await uow.ledger.payments_by_external(
        [c.external_id for _, c in commands if c is not None])
    policy = await uow.ledger.cash_application_policy() if kind == "payments" and commands else None
    named = {} if kind != "payments" else await uow.ledger.customers_by_external(
        list({c.customer_external_id for _, c in commands if c is not None and c.customer_external_id}))
    for number, command in commands:
        if command is None:
            done += 1
            continue
        try:
            if kind == "customers":
                async with uow.session.begin_nested():
                    await customers.upsert_customer(uow, command.external_id, command)
            elif command.external_id in known:
                pass  # recorded before (by an earlier chunk, job or row): a repeat changes nothing
            else:
                customer = named.get(command.customer_external_id) if command.customer_external_id else None
                if command.customer_external_id and customer is None:
                    raise customers.unknown_customer(command.customer_external_id)
                async with uow.session.begin_nested():
                    await payments.record_payment(uow, command, source="import", policy=policy, customer=customer,
                                                  known_new=True)
                known.add(command.external_id)
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
        if preset.name != "native" and preset.is_summary(raw):
            commands.append((number, None))  # a report's totals row: done, nothing to do
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
        self._importer = ChunkImporter(engine, outbox, TopicNames(settings.topic_prefix), clock, settings.import_chunk_rows,
                                       settings.import_prebuild)
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
