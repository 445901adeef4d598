"""Helpers of the portal-api suite: a fake of Stripe's API, seeded customers, sign-in, outbox reads."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
from sqlalchemy import select

from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.contracts.invoice import CreditNoteIssuedV1, InvoiceIssuedV1
from rapport_shared.testing.ports import free_port

from rapport_portal.adapters.orm import outbox
from rapport_portal.bootstrap import handle

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
STRIPE_KEY = "sk_test_portal_suite"


@dataclass
class Account:
    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    contact_id: uuid.UUID
    email: str
    invoice_ids: list[uuid.UUID] = field(default_factory=list)
    credit_note_id: uuid.UUID | None = None


async def seed_account(portal, *, tenant_id=None, invoices: int = 3, today: date = TODAY,
                       amount: str = "100.50", currency: str = "EUR", credit: str | None = None) -> Account:
    """A customer, one contact and ``invoices`` open invoices (the first overdue), as ingest would emit them."""
    tenant_id = tenant_id or uuid.uuid4()
    acct = Account(tenant_id, uuid.uuid4(), uuid.uuid4(), f"ap-{uuid.uuid4().hex[:8]}@customer.test")
    events = [CustomerUpsertedV1(customer_id=acct.customer_id, external_id="C-" + acct.email[3:11], name="Acme GmbH", currency=currency),
              ContactUpsertedV1(contact_id=acct.contact_id, customer_id=acct.customer_id, name="Ann Payable", email=acct.email)]
    for n in range(invoices):
        invoice_id = uuid.uuid4()
        acct.invoice_ids.append(invoice_id)
        events.append(InvoiceIssuedV1(
            invoice_id=invoice_id, customer_id=acct.customer_id, number=f"INV-{n + 1:04d}", po_number=f"PO-{n % 7}",
            issue_date=today - timedelta(days=40 - n), due_date=today - timedelta(days=10) + timedelta(days=15 * n),
            currency=currency, amount_total=Decimal(amount), open_amount=Decimal(amount), status="open"))
    if credit:
        acct.credit_note_id = uuid.uuid4()
        events.append(CreditNoteIssuedV1(credit_note_id=acct.credit_note_id, customer_id=acct.customer_id, number="CN-1",
                                         issue_date=today - timedelta(days=5), currency=currency,
                                         amount=Decimal(credit), unapplied_amount=Decimal(credit)))
    async with portal.unit_of_work() as session:
        for payload in events:
            await handle(session, make_event(payload, source="ingest", tenant_id=tenant_id, customer_key=acct.customer_id))
    return acct



REQUIRED_METADATA = ("rapport_tenant_id", "rapport_customer_id", "rapport_invoice_ids", "rapport_request_id")


class FakeStripe:
    """Records checkout-session creations; answers 400 (like Stripe) when a request is malformed."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeStripe":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def check(self, headers, form: dict[str, str]) -> list[str]:
        problems = []
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            problems.append("wrong or missing API key")
        if not headers.get("Idempotency-Key"):
            problems.append("no Idempotency-Key")
        if form.get("mode") != "payment":
            problems.append("mode is not payment")
        for key in REQUIRED_METADATA:
            if not form.get(f"metadata[{key}]"):
                problems.append(f"metadata[{key}] missing")
            if form.get(f"payment_intent_data[metadata][{key}]") != form.get(f"metadata[{key}]"):
                problems.append(f"payment_intent_data metadata {key} differs")
        if not form.get("line_items[0][price_data][unit_amount]", "").isdigit():
            problems.append("line item without integer unit_amount")
        if not form.get("success_url") or not form.get("cancel_url"):
            problems.append("success_url/cancel_url missing")
        return problems

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                if self.path != "/v1/checkout/sessions":
                    self._send(404, b'{"error":{"type":"invalid_request_error","message":"unknown path"}}')
                    return
                problems = fake.check(self.headers, form)
                fake.problems.extend(problems)
                fake.requests.append({"path": self.path, "form": form, "headers": dict(self.headers)})
                if problems:
                    body = {"error": {"type": "invalid_request_error", "message": "; ".join(problems)}}
                    self._send(400, json.dumps(body).encode())
                    return
                session_id = f"cs_test_{len(fake.requests):04d}"
                self._send(200, json.dumps({
                    "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                    "url": f"{fake.url}/pay/{session_id}", "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                }).encode())

            def do_GET(self) -> None:
                # The hosted checkout page the browser lands on in the end-to-end test.
                self._send(200, b"<!doctype html><title>Fake Stripe Checkout</title><h1>Fake Stripe Checkout</h1>",
                           "text/html")

        return Handler


async def sign_in(client: httpx.AsyncClient, acct: Account) -> dict[str, str]:
    """Bearer headers for a fresh session of ``acct``'s contact (through the admin link and the exchange)."""
    link = await client.post("/v1/admin/magic-links", json={"tenant_id": str(acct.tenant_id), "contact_id": str(acct.contact_id)},
                             headers={"X-Admin-Token": "dev-admin-token"})
    assert link.status_code == 201, link.text
    session = await client.post("/v1/auth/session", json={"token": link.json()["token"]})
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['session_token']}"}


async def events_for(portal, customer_id) -> list[Envelope]:
    """Events of one customer waiting in the portal's outbox."""
    async with portal.sessions() as session:
        values = (await session.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
    found = [Envelope.model_validate_json(v) for v in values]
    return [e for e in found if e.partitionkey.endswith(str(customer_id))]




class Processes:
    """Service processes started by a test, each logging to a file; stopped (SIGTERM, then SIGKILL) by pid."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list = []

    def start(self, name: str, args: list[str], env: dict[str, str]):
        import subprocess

        log = open(self.log_dir / f"{name}.log", "wb")
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.started.append((proc, log))
        return proc

    def log_text(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        import subprocess

        for proc, _ in self.started:
            proc.terminate()
        for proc, log in self.started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


async def wait_http(url: str, timeout: float = 60.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient() as c:
        while loop.time() < deadline:
            try:
                if (await c.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")
