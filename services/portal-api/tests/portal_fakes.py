"""A local fake of Stripe's API that checks every request the real SDK makes."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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
