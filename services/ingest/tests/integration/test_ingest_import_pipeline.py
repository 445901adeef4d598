"""The invoice import's pipeline: the next chunk is prepared and prebuilt (as new invoices) in a thread
while Postgres writes the current one. A crash still loses nothing and writes nothing twice, and a
prebuilt row is checked against the ledger before it is written."""
from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus import codec
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.ids import new_id
from rapport_shared.time import SystemClock

from rapport_ingest.adapters import bulk
from rapport_ingest.adapters.orm import import_jobs
from rapport_ingest.bootstrap import make_outbox
from rapport_ingest.domain.presets import preset_for
from rapport_ingest.domain.rows import parse_lines
from rapport_ingest.service_layer import imports
from rapport_ingest.service_layer.imports import ChunkImporter, _driver
from rapport_ingest.service_layer.invoice_import import InvoiceWriter, prepare
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration
NATIVE = preset_for("native", "invoices")


def _lines(count: int, prefix: str = "K", customer: str = "C-1") -> list[bytes]:
    return [f'{{"number": "{prefix}-{i:04d}", "customer_external_id": "{customer}", "issue_date": "2026-01-01", '
            f'"due_date": "2026-01-31", "currency": "USD", "amount": "{100 + i}.00"}}\n'.encode() for i in range(count)]


async def _job(engine, tenant_id: UUID, total: int) -> UUID:
    """A job row the tests drive themselves (the app's worker claims only queued and running jobs)."""
    job_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(insert(import_jobs).values(id=job_id, tenant_id=tenant_id, kind="invoices", format="ndjson",
                                                      preset="native", status="completed", rows_total=total))
    return job_id


def _spy_prebuilt(monkeypatch, count: bool = True) -> list:
    """What the job prebuilt for each chunk, in order: how many rows (None: prebuilding was off for that chunk),
    or with ``count=False`` the chunk's ``built`` list itself."""
    seen: list = []
    real = imports._prepare_next

    def spying(*args):
        prepared = real(*args)
        if prepared is not None:
            built = prepared.built
            seen.append(built if not count or built is None else sum(b is not None for b in built))
        return prepared

    monkeypatch.setattr(imports, "_prepare_next", spying)
    return seen


async def _ledger(engine, tenant_id: UUID) -> dict[str, tuple[UUID, int]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT number, id, version FROM ingest.invoices WHERE tenant_id = :t"),
                                   {"t": tenant_id})).all()
    return {r.number: (r.id, r.version) for r in rows}


async def _progress(engine, job_id: UUID) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT rows_done, rows_failed FROM ingest.import_jobs WHERE id = :j"),
                                  {"j": job_id})).one()
    return row.rows_done, row.rows_failed


async def test_a_crash_mid_job_resumes_after_the_last_committed_chunk_with_one_event_per_invoice(
        tenant, ingest_app, ingest_settings, monkeypatch):
    await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    importer = ChunkImporter(engine, make_outbox(ingest_settings), TopicNames(ingest_settings.topic_prefix),
                             SystemClock(), 40)
    lines = _lines(230) + [b"{broken\n"]
    job_id = await _job(engine, tenant_id, len(lines))
    written: list[list[tuple]] = []  # the outbox records each attempt wrote, committed or not
    real_events, real_progress, calls = bulk.insert_events, bulk.record_progress, {"progress": 0}

    async def recording_events(conn, records):
        written.append(list(records))
        await real_events(conn, records)

    async def crashing_progress(conn, job, done, errors):
        calls["progress"] += 1
        if calls["progress"] == 3:  # the third chunk's ledger and outbox rows are written, then the process dies
            raise RuntimeError("killed")
        await real_progress(conn, job, done, errors)

    monkeypatch.setattr(bulk, "insert_events", recording_events)
    monkeypatch.setattr(bulk, "record_progress", crashing_progress)
    with pytest.raises(RuntimeError, match="killed"):
        await importer.run(job_id, tenant_id, "invoices", NATIVE, parse_lines(iter(lines), "ndjson"))
    assert await _progress(engine, job_id) == (80, 0)
    assert sorted(await _ledger(engine, tenant_id)) == [f"K-{i:04d}" for i in range(80)]  # nothing of chunk 3

    monkeypatch.setattr(bulk, "record_progress", real_progress)
    done, failed = await _progress(engine, job_id)
    await importer.run(job_id, tenant_id, "invoices", NATIVE, parse_lines(iter(lines), "ndjson"), skip=done + failed)
    assert await _progress(engine, job_id) == (230, 1)
    ledger = await _ledger(engine, tenant_id)
    assert sorted(ledger) == [f"K-{i:04d}" for i in range(230)]
    assert {version for _, version in ledger.values()} == {1}
    # Committed attempts: every one but the third. Their events name each ledger invoice exactly once.
    committed = [record for i, attempt in enumerate(written) if i != 2 for record in attempt]
    issued = [codec.decode(record[-1]).data for record in committed]
    assert sorted(d["number"] for d in issued) == sorted(ledger)
    assert all(UUID(d["invoice_id"]) == ledger[d["number"]][0] for d in issued)
    lost = {codec.decode(record[-1]).data["invoice_id"] for record in written[2]}
    assert not lost & {str(invoice_id) for invoice_id, _ in ledger.values()}
    async with engine.connect() as conn:
        errors = (await conn.execute(text("SELECT row FROM ingest.import_errors WHERE job_id = :j"),
                                     {"j": job_id})).scalars().all()
    assert errors == [231]


async def _write(engine, ingest_settings, writer: InvoiceWriter, tenant_id: UUID, prepared) -> tuple[int, list]:
    async with engine.begin() as conn:
        uow = UnitOfWork(AsyncSession(bind=conn), tenant_id, make_outbox(ingest_settings), SystemClock())
        return await writer.write(await _driver(conn), uow, prepared, datetime.now(timezone.utc))


async def test_a_prebuilt_row_whose_number_the_ledger_got_meanwhile_is_written_as_a_change(
        tenant, ingest_app, ingest_settings):
    customer = await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    writer = InvoiceWriter(tenant_id, await _job(engine, tenant_id, 3),
                           TopicNames(ingest_settings.topic_prefix)("invoice"))
    writer._remember("C-1", UUID(customer["customer_id"]))
    prepared = writer.prebuild(prepare(list(parse_lines(iter(_lines(3, "M")), "ndjson")), NATIVE),
                               datetime.now(timezone.utc))
    assert all(b is not None for b in prepared.built)
    await tenant.invoice("M-0001", "5.00")  # the API creates one of the numbers after the chunk was built
    done, errors = await _write(engine, ingest_settings, writer, tenant_id, prepared)
    assert (done, errors) == (3, [])
    ledger = await _ledger(engine, tenant_id)
    assert sorted(ledger) == ["M-0000", "M-0001", "M-0002"]
    assert ledger["M-0001"][1] == 2 and (await tenant.get("/v1/invoices/M-0001")).json()["amount"] == "101.0000"


async def test_a_row_prebuilt_for_a_customer_of_a_rolled_back_chunk_is_built_again(tenant, ingest_app, ingest_settings):
    customer = await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    writer = InvoiceWriter(tenant_id, await _job(engine, tenant_id, 2),
                           TopicNames(ingest_settings.topic_prefix)("invoice"))
    writer._remember("C-1", new_id())  # as if a chunk had created C-1 and then rolled back
    prepared = writer.prebuild(prepare(list(parse_lines(iter(_lines(2, "R")), "ndjson")), NATIVE),
                               datetime.now(timezone.utc))
    writer.forget_customers()
    done, errors = await _write(engine, ingest_settings, writer, tenant_id, prepared)
    assert (done, errors) == (2, [])
    view = (await tenant.get("/v1/invoices/R-0000")).json()
    assert view["customer_id"] == customer["customer_id"]


async def test_the_job_prebuilds_chunks_in_the_thread(tenant, ingest_app, ingest_settings, monkeypatch):
    await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    seen = _spy_prebuilt(monkeypatch)
    importer = ChunkImporter(engine, make_outbox(ingest_settings), TopicNames(ingest_settings.topic_prefix),
                             SystemClock(), 50)
    job_id = await _job(engine, tenant_id, 150)
    await importer.run(job_id, tenant_id, "invoices", NATIVE, parse_lines(iter(_lines(150, "T")), "ndjson"))
    assert await _progress(engine, job_id) == (150, 0)
    # The first chunk is read before the job knows any customer; the later ones are prebuilt whole.
    assert seen[0] == 0 and seen[-1] == 50


async def test_a_reimport_stops_prebuilding_once_the_ledger_holds_most_numbers(tenant, ingest_app, ingest_settings,
                                                                               monkeypatch):
    await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    importer = ChunkImporter(engine, make_outbox(ingest_settings), TopicNames(ingest_settings.topic_prefix),
                             SystemClock(), 50)
    first = await _job(engine, tenant_id, 200)
    await importer.run(first, tenant_id, "invoices", NATIVE, parse_lines(iter(_lines(200, "U")), "ndjson"))
    seen = _spy_prebuilt(monkeypatch)
    changed = [line.replace(b'"amount": "', b'"amount": "1') for line in _lines(200, "U")]
    second = await _job(engine, tenant_id, 200)
    await importer.run(second, tenant_id, "invoices", NATIVE, parse_lines(iter(changed), "ndjson"))
    assert await _progress(engine, second) == (200, 0)
    ledger = await _ledger(engine, tenant_id)
    assert len(ledger) == 200 and {version for _, version in ledger.values()} == {2}
    # Once chunk 1 (all known numbers) is written, chunks 3 and 4 are not prebuilt.
    assert len(seen) == 4 and seen[2:] == [None, None]


async def test_prebuilding_can_be_switched_off_for_a_job(tenant, ingest_app, ingest_settings, monkeypatch):
    await tenant.customer("C-1")
    engine, tenant_id = ingest_app.state.engine, UUID(tenant.tenant_id)
    seen = _spy_prebuilt(monkeypatch, count=False)
    importer = ChunkImporter(engine, make_outbox(ingest_settings), TopicNames(ingest_settings.topic_prefix),
                             SystemClock(), 50, prebuild=False)
    job_id = await _job(engine, tenant_id, 150)
    await importer.run(job_id, tenant_id, "invoices", NATIVE, parse_lines(iter(_lines(150, "O")), "ndjson"))
    assert await _progress(engine, job_id) == (150, 0) and seen == [None, None, None]
    assert len(await _ledger(engine, tenant_id)) == 150
