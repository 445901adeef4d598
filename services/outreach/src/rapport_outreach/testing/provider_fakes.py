"""Local HTTP fakes of SendGrid's and Twilio's APIs that check every request they get.

Each fake records what it received, validates auth and payload shape (an invalid request is
answered 400 and kept in ``invalid``), and answers from a script: ``ok``, ``429`` (with
Retry-After), ``500`` or ``timeout`` (sleeps past the client's timeout, then answers).
"""
from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class FakeApi:
    latency_s: float = 0.0
    timeout_sleep_s: float = 2.0
    retry_after_s: int = 1
    script: deque = field(default_factory=deque)
    accepted: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0

    def reset(self) -> None:
        """Forget everything; a slow answer still in flight is not recorded afterwards."""
        with self.lock:
            self.generation += 1
            self.script.clear(), self.accepted.clear(), self.invalid.clear(), self.seen.clear()
            self.latency_s, self.retry_after_s = 0.0, 1

    async def stats(self, request: Request) -> Response:
        with self.lock:
            ids = [r.get("message_id") for r in self.seen]
            return JSONResponse({"seen": len(self.seen), "accepted": len(self.accepted), "invalid": len(self.invalid),
                                 "distinct": len(set(ids))})

    def answer_next(self, *modes: str) -> None:
        self.script.extend(modes)

    def _mode(self) -> str:
        with self.lock:
            return self.script.popleft() if self.script else "ok"

    async def respond(self, record: dict, problems: list[str], ok: Response) -> Response:
        with self.lock:
            self.seen.append(record)
            generation = self.generation
        if problems:
            with self.lock:
                self.invalid.append({**record, "problems": problems})
            return JSONResponse({"errors": [{"message": p} for p in problems]}, status_code=400)
        mode = self._mode()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if mode == "429":
            return JSONResponse({"errors": [{"message": "too many requests"}]}, status_code=429,
                                headers={"Retry-After": str(self.retry_after_s)})
        if mode == "500":
            return JSONResponse({"errors": [{"message": "internal error"}]}, status_code=500)
        if mode == "timeout":
            await asyncio.sleep(self.timeout_sleep_s)
        with self.lock:
            if generation == self.generation:
                self.accepted.append(record)
        return ok


class SendGridFake(FakeApi):
    api_key = "SG.test-key"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v3/mail/send", self.mail_send, methods=["POST"]),
                                 Route("/__stats", self.stats, methods=["GET"])])

    async def mail_send(self, request: Request) -> Response:
        problems = []
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            problems.append("authorization header is not the expected bearer key")
        try:
            body = await request.json()
        except ValueError:
            body = {}
            problems.append("body is not JSON")
        problems += sendgrid_problems(body)
        record = {"body": body, "message_id": (body.get("custom_args") or {}).get("rapport_message_id")}
        return await self.respond(record, problems, Response(status_code=202, headers={
            "X-Message-Id": uuid.uuid4().hex}))


def sendgrid_problems(body: dict) -> list[str]:
    problems = []
    to = ((body.get("personalizations") or [{}])[0].get("to") or [{}])[0].get("email")
    if not to or "@" not in to:
        problems.append("personalizations[0].to[0].email missing")
    if "@" not in (body.get("from") or {}).get("email", ""):
        problems.append("from.email missing")
    if not body.get("subject"):
        problems.append("subject missing")
    types = [c.get("type") for c in body.get("content") or []]
    if "text/plain" not in types:
        problems.append("content has no text/plain part")
    if not (body.get("custom_args") or {}).get("rapport_message_id"):
        problems.append("custom_args.rapport_message_id missing")
    if not body.get("categories"):
        problems.append("categories missing")
    return problems


class TwilioFake(FakeApi):
    account_sid = "AC" + "0" * 32
    auth_token = "twilio-test-token"
    service_sid = "MG" + "1" * 32

    def app(self) -> Starlette:
        path = "/2010-04-01/Accounts/{sid}/Messages.json"
        return Starlette(routes=[Route(path, self.create_message, methods=["POST"]),
                                 Route("/2010-04-01/Accounts/{sid}/Calls.json", self.create_call, methods=["POST"]),
                                 Route("/__stats", self.stats, methods=["GET"])])

    async def create_message(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        problems = [] if request.headers.get("authorization") == expected else ["basic auth is not sid:token"]
        if request.path_params["sid"] != self.account_sid:
            problems.append("account sid in the path is wrong")
        form = {k: v for k, v in (await request.form()).items()}
        for name in ("To", "Body", "MessagingServiceSid"):
            if not form.get(name):
                problems.append(f"{name} missing")
        if form.get("MessagingServiceSid") not in (None, self.service_sid):
            problems.append("MessagingServiceSid is not the configured one")
        sid = "SM" + uuid.uuid4().hex
        record = {"form": form, "message_id": (form.get("StatusCallback") or "").rpartition("message_id=")[2]}
        payload = {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "body": form.get("Body"),
                   "status": "accepted", "messaging_service_sid": form.get("MessagingServiceSid")}
        return await self.respond(record, problems, JSONResponse(payload, status_code=201))


    async def create_call(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        problems = [] if request.headers.get("authorization") == expected else ["basic auth is not sid:token"]
        form = {k: v for k, v in (await request.form()).items()}
        for name in ("To", "From", "Twiml"):
            if not form.get(name):
                problems.append(f"{name} missing")
        if "<Say" not in form.get("Twiml", ""):
            problems.append("Twiml has no <Say>")
        sid = "CA" + uuid.uuid4().hex
        payload = {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "status": "queued"}
        return await self.respond({"form": form, "message_id": None}, problems, JSONResponse(payload, status_code=201))


class ServerThread:
    """Runs an ASGI app on a free local port in a daemon thread."""

    def __init__(self, app: Starlette) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


def serve_forever(kind: str, port: int) -> None:
    """Entry point for running a fake in its own process (benchmarks)."""
    fake = SendGridFake() if kind == "sendgrid" else TwilioFake()
    uvicorn.run(fake.app(), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")


class SmtpFake:
    """A local SMTP server speaking just enough of RFC 5321 for a client to deliver mail.

    ``answer_next("451")`` or ``("550")`` makes the next DATA fail with that code; every accepted
    message is kept with its envelope sender and recipients.
    """

    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.script: deque = deque()
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    def answer_next(self, *codes: str) -> None:
        self.script.extend(codes)

    async def __aenter__(self) -> "SmtpFake":
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        envelope: dict = {"from": None, "to": []}
        writer.write(b"220 smtp.fake ESMTP\r\n")
        while line := (await reader.readline()).decode(errors="replace").rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper().split(":")[0]
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-smtp.fake\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                envelope = {"from": line.split(":", 1)[1].split()[0], "to": []}  # parameters (BODY=...) dropped
                writer.write(b"250 OK\r\n")
            elif verb == "RCPT":
                envelope["to"].append(line.split(":", 1)[1].strip())
                writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                await writer.drain()
                writer.write(await self._data(reader, envelope))
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    async def _data(self, reader: asyncio.StreamReader, envelope: dict) -> bytes:
        lines = []
        while (line := await reader.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        code = self.script.popleft() if self.script else "250"
        if code != "250":
            return f"{code} refused by the fake\r\n".encode()
        self.accepted.append({**envelope, "data": b"".join(lines)})
        return b"250 queued\r\n"
