"""``rapport-scoring eval``: the reproducible evaluation through the real ingest path.

Starts ingest (api, relay) and the scoring consumer against a fresh database slice and
topic prefix, posts the CSV through ingest's HTTP API, waits until scoring's read model
holds every invoice and settlement, then trains on a time-ordered split and registers the
model with its figures.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.testing.infra import TestInfra, create_slice, destroy_slice
from rapport_shared.time import SystemClock

from rapport_scoring.adapters import repository
from rapport_scoring.adapters.dataset_csv import read_invoices
from rapport_scoring.entrypoints.eval_load import (
    IngestUnavailable, LoadReport, create_tenant, load, load_bulk, progress,
)
from rapport_scoring.service_layer.training import train_tenant

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Service processes of one evaluation run, stopped by their own pids."""

    def __init__(self, infra: TestInfra, logs: Path) -> None:
        self.infra, self.logs, self.running = infra, logs, []

    def run(self, *argv: str, **env: str) -> None:
        subprocess.run([str(BIN / argv[0]), *argv[1:]], env=self.infra.env(**env), check=True,
                       stdout=subprocess.DEVNULL, stderr=open(self.logs / f"{argv[0]}-{argv[1]}.log", "ab"))

    def start(self, *argv: str, **env: str) -> None:
        log = open(self.logs / f"{argv[0]}-{argv[1]}.log", "ab")
        self.running.append(subprocess.Popen([str(BIN / argv[0]), *argv[1:]], env=self.infra.env(**env),
                                             stdout=log, stderr=log))

    def check_alive(self) -> None:
        """A service that died makes waiting pointless: fail with the end of its log."""
        for process in self.running:
            if process.poll() is not None:
                name = "-".join(Path(a).name for a in process.args[:2])
                tail = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                raise ServiceDied(f"{name} exited with {process.returncode}; last log lines:\n" + "\n".join(tail))

    def stop(self) -> None:
        for process in self.running:
            process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class ServiceDied(RuntimeError):
    """A process the evaluation started exited before the evaluation finished."""


def _require_ingest() -> None:
    if not (BIN / "rapport-ingest").exists():
        raise IngestUnavailable(f"{BIN / 'rapport-ingest'} is not installed; run `make sync`")


async def _wait_healthy(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise IngestUnavailable(f"the service at {url} did not become healthy in {timeout:.0f}s")


async def _wait_read_model(sessions, tenant_id, report: LoadReport, procs: Processes, timeout: float) -> None:
    """Until scoring's read model holds every loaded invoice, settlement and payment (or the timeout).

    Payments count too: an invoice marked paid before its payment event arrives is dated by the
    day ingest marked it, and training on that date would be wrong.
    """
    deadline, seen, shown = time.monotonic() + timeout, (-1, -1, -1), 0.0
    wanted = (report.invoices, report.fully_paid, report.payments)
    while time.monotonic() < deadline:
        procs.check_alive()
        async with sessions() as session:
            seen = (await repository.count_invoices(session, tenant_id),
                    await repository.count_invoices(session, tenant_id, settled_only=True),
                    await repository.count_allocated_payments(session, tenant_id))
        if all(s >= w for s, w in zip(seen, wanted)):
            return
        if time.monotonic() - shown > 10:
            progress(f"scoring read model: {seen[0]}/{wanted[0]} invoices, {seen[1]}/{wanted[1]} settled, "
                     f"{seen[2]}/{wanted[2]} payments")
            shown = time.monotonic()
        await asyncio.sleep(1.0)
    raise TimeoutError(f"scoring read model has {seen[0]}/{wanted[0]} invoices, {seen[1]}/{wanted[1]} settlements and "
                       f"{seen[2]}/{wanted[2]} payments after {timeout:.0f}s (logs: {procs.logs})")


async def _evaluate(infra: TestInfra, data: Path, procs: Processes, timeout: float, bulk: bool) -> dict:
    port = free_port()
    # Small import chunks commit (and so publish) early: scoring consumes while ingest still imports.
    procs.start("rapport-ingest", "api", RAPPORT_INGEST_HTTP_PORT=str(port), RAPPORT_INGEST_IMPORT_CHUNK_ROWS="500")
    procs.start("rapport-ingest", "relay")
    procs.start("rapport-scoring", "consumer")
    base = f"http://127.0.0.1:{port}"
    await _wait_healthy(base)
    progress("ingest and scoring are up; loading the CSV through ingest's bulk imports")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tenant_id, api_key = await create_tenant(client, os.environ.get("RAPPORT_INGEST_ADMIN_TOKEN", "dev-admin-token"))
    rows = read_invoices(data)
    started = time.monotonic()
    loaded = await (load_bulk if bulk else load)(base, api_key, rows)
    engine = make_engine(infra.database_url("scoring"), pool_size=2)
    sessions = make_session_factory(engine)
    try:
        progress(f"loaded through ingest in {time.monotonic() - started:.0f}s: {loaded.customers} customers, "
                 f"{loaded.invoices} invoices, {loaded.payments} payments")
        await _wait_read_model(sessions, tenant_id, loaded, procs, timeout)
        progress(f"scoring read model complete after {time.monotonic() - started:.0f}s; training")
        ingest_s = time.monotonic() - started
        result = await train_tenant(sessions, tenant_id, SystemClock(), kind="evaluation", threads=1)
    finally:
        await engine.dispose()
    card = await _model_card(procs, tenant_id, result.version if result else None)
    return {"data": str(data), "rows_in_file": len(rows), "loaded": loaded.__dict__ | {"rejected": loaded.rejected[:20]},
            "model_card": card,
            "ingest_to_read_model_s": round(ingest_s, 1), "tenant_id": tenant_id,
            "model_version": result.version if result else None, **(result.report if result else {})}


async def _model_card(procs: Processes, tenant_id: str, version: str | None) -> str:
    """The figures just registered, as scoring's own API serves them."""
    if version is None:
        return "no model (too few settled invoices)"
    port = free_port()
    procs.start("rapport-scoring", "api", RAPPORT_SCORING_HTTP_PORT=str(port), RAPPORT_SCORING_ADMIN_TOKEN="eval")
    base = f"http://127.0.0.1:{port}"
    await _wait_healthy(base)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.get("/v1/model-card", params={"kind": "evaluation"},
                                    headers={"X-Admin-Token": "eval", "X-Tenant-Id": tenant_id})
    card = response.json()
    if response.status_code != 200 or card.get("version") != version:
        raise IngestUnavailable(f"GET /v1/model-card answered {response.status_code}: {response.text[:300]}")
    return f"GET /v1/model-card?kind=evaluation serves {card['version']} (AUC {card['metrics']['model']['auc']:.4f})"


def run(repo_root: Path, data: Path, *, keep: bool, timeout: float, bulk: bool = True) -> dict:
    _require_ingest()
    if not data.exists():
        raise FileNotFoundError(f"evaluation data not found: {data}")
    # SIGTERM (a CI timeout, `kill`) must still stop the services and drop the slice below.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    progress("creating a database slice and topics (starts Kafka and Postgres if they are not running)")
    infra = create_slice(repo_root)
    procs = Processes(infra, Path(tempfile.mkdtemp(prefix="rapport-eval-")))
    progress(f"slice {infra.database}; service logs in {procs.logs}")
    try:
        procs.run("rapport-ingest", "migrate")
        procs.run("rapport-scoring", "migrate")
        report = asyncio.run(_evaluate(infra, data, procs, timeout, bulk))
        report["load_path"] = "bulk imports" if bulk else "one request per record"
        report["logs"] = str(procs.logs)
        return report
    finally:
        progress("stopping the services" + ("" if keep else " and dropping the slice"))
        procs.stop()
        if not keep:
            destroy_slice(infra)


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def render(report: dict) -> str:
    lines = [f"evaluation on {report['data']} (cut-off {report.get('cutoff')}, train {report.get('train_rows')}, "
             f"test {report.get('test_rows')} invoices)", f"{'metric':<10}{'model':>10}{'baseline':>10}{'better by':>14}"]
    model, base, gain = report["model"], report["baseline"], report["improvement"]
    lines.append(f"{'AUC':<10}{model['auc']:>10.4f}{base['auc']:>10.4f}{gain['auc']:>+14.4f}")
    lines.append(f"{'accuracy':<10}{model['accuracy']:>10.4f}{base['accuracy']:>10.4f}{gain['accuracy']:>+14.4f}")
    lines.append(f"{'Brier':<10}{model['brier']:>10.4f}{base['brier']:>10.4f}{gain['brier_reduction_pct']:>+13.1f}%")
    lines.append(f"{'MAE days':<10}{model['mae_days']:>10.2f}{base['mae_days']:>10.2f}{gain['mae_reduction_pct']:>+13.1f}%")
    lines.append(f"P10-P90 interval coverage: {report['interval_coverage_p10_p90']:.1%}; model {report['model_version']}")
    if report.get("model_card"):
        lines.append(f"model card: {report['model_card']}")
    return "\n".join(lines)


def dump(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def run_offline(data: Path) -> dict:
    """The same split, features and training straight from the file (no ingest, no Kafka)."""
    from rapport_scoring.domain.facts import InvoiceFact
    from rapport_scoring.service_layer.training import fit

    rows = read_invoices(data)
    facts = [InvoiceFact(r.number, r.customer, r.issue_date, r.due_date, float(r.amount),
                         r.paid_on if r.settled_amount >= r.amount else None) for r in rows]
    _, report, calibration = fit(facts, [], production=False)
    return {"data": str(data), "mode": "offline", "rows_in_file": len(rows), "model_version": "offline",
            "calibration": calibration, **report}
