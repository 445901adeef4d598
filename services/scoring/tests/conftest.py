"""Scoring test fixtures: the migrated ``scoring`` schema of the run's slice, and event builders."""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from rapport_shared.contracts.customer import CustomerUpsertedV1
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1, InvoiceIssuedV1
from rapport_shared.contracts.payment import Allocation, PaymentReceivedV1
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.migrations import upgrade_head
from rapport_shared.testing.ports import free_port

# OpenMP threads spin while waiting for each other; on a shared 2-core machine that makes the
# small fits of these tests minutes slower than one thread each. The variable reaches worker
# threads (training runs in one) and the service processes the tests start; the call covers a
# runtime already loaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")
threadpool_limits(1)
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture(scope="session")
def scoring_url(infra) -> str:
    upgrade_head(MIGRATIONS, infra.database_url("scoring"), "scoring")
    return infra.database_url("scoring")


@pytest.fixture
async def sessions(scoring_url):
    engine = make_engine(scoring_url, pool_size=2)
    yield make_session_factory(engine)
    await engine.dispose()


class Ledger:
    """Builds the events ingest would emit for one tenant."""

    def __init__(self) -> None:
        self.tenant_id = uuid.uuid4()
        self.versions: dict[uuid.UUID, int] = {}

    def _wrap(self, payload, customer_id):
        return make_event(payload, source="rapport.ingest", tenant_id=self.tenant_id, customer_key=customer_id)

    def customer(self, customer_id: uuid.UUID, name: str = "Acme", **extra):
        return self._wrap(CustomerUpsertedV1(customer_id=customer_id, external_id=name.lower(), name=name,
                                             currency="EUR", **extra), customer_id)

    def invoice(self, customer_id, invoice_id, issue: date, due: date, amount: str, open_amount: str | None = None,
                status: str = "open", cls=InvoiceIssuedV1, **extra):
        self.versions[invoice_id] = self.versions.get(invoice_id, 0) + 1
        payload = cls(invoice_id=invoice_id, customer_id=customer_id, number=f"INV-{str(invoice_id)[:6]}",
                      issue_date=issue, due_date=due, currency="EUR", amount_total=Decimal(amount),
                      open_amount=Decimal(open_amount if open_amount is not None else amount), status=status,
                      version=self.versions[invoice_id], **extra)
        return self._wrap(payload, customer_id)

    def paid(self, customer_id, invoice_id, issue, due, amount: str, payment_id):
        return self.invoice(customer_id, invoice_id, issue, due, amount, "0", "paid", InvoiceBalanceChangedV1,
                            cause="payment", delta=-Decimal(amount), payment_id=payment_id,
                            paid_at=datetime.now(timezone.utc))

    def payment(self, customer_id, payment_id, invoice_id, amount: str, received_on: date):
        return self._wrap(PaymentReceivedV1(
            payment_id=payment_id, customer_id=customer_id, amount=Decimal(amount), currency="EUR",
            received_on=received_on, unapplied_amount=Decimal(0),
            allocations=[Allocation(invoice_id=invoice_id, invoice_number="INV", amount=Decimal(amount))]), customer_id)


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()




class Services:
    """Scoring processes started by a test, stopped by their own pids."""

    def __init__(self, infra, repo_root: Path) -> None:
        self.infra, self.bin, self.procs = infra, repo_root / ".venv" / "bin", []

    def start(self, command: str, **env: str):
        import subprocess

        proc = subprocess.Popen([str(self.bin / "rapport-scoring"), command], env=self.infra.env(**env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop(self, procs=None) -> None:
        procs = list(procs) if procs is not None else self.procs
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except Exception:  # noqa: BLE001 - a stuck worker must not hang the run
                proc.kill()


@pytest.fixture(scope="session")
def scoring_services(infra, repo_root, scoring_url):
    services = Services(infra, repo_root)
    yield services
    services.stop()


@pytest.fixture(scope="session")
async def scoring_api(scoring_services):
    import asyncio

    import httpx

    port = free_port()
    scoring_services.start("api", RAPPORT_SCORING_HTTP_PORT=str(port), RAPPORT_SCORING_ADMIN_TOKEN="test-admin")
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(1500):  # a loaded machine can take minutes to import scikit-learn
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"scoring API at {base} did not become healthy")
