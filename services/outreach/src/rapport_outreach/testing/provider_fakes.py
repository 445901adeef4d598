"""Local HTTP fakes of SendGrid's and Twilio's APIs that check every request they get.

Each fake records what it received, validates auth and payload shape (an invalid request is
answered 400 and kept in ``invalid``), and answers from a script: ``ok``, ``429`` (with
Retry-After), ``500`` or ``timeout`` (sleeps past the client's timeout, then answers).

The HTTP server is deliberately lean: an asyncio protocol around ``httptools``' request parser
(keep-alive, Content-Length bodies), answering most requests synchronously from
``data_received``. A full ASGI stack (uvicorn + Starlette) cost 0.15-0.35 ms of CPU per request,
as much as the sender spends on a message; on a 2-core machine the fake's CPU is taken from the
process being measured.
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

import httptools


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self):  # noqa: ANN201 - any JSON value; ValueError when the body is not JSON
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (what Twilio's SDK posts)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


def json_answer(payload: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json.dumps(payload).encode(), headers)


Handler = Callable[[Request, list[str]], "Answer | Awaitable[Answer]"]


class FakeApp:
    """Routes ``(method, path pattern)`` to handlers; ``{name}`` segments of a pattern match one path segment
    and are passed to the handler in order."""

    def __init__(self, routes: list[tuple[str, str, Handler]]) -> None:
        self._exact: dict[tuple[str, str], Handler] = {}
        self._patterns: list[tuple[str, list[str], Handler]] = []
        for method, pattern, handler in routes:
            if "{" in pattern:
                self._patterns.append((method, pattern.strip("/").split("/"), handler))
            else:
                self._exact[(method, pattern)] = handler

    def dispatch(self, request: Request) -> "Answer | Awaitable[Answer]":
        handler = self._exact.get((request.method, request.path))
        if handler is not None:
            return handler(request, [])
        parts = request.path.strip("/").split("/")
        for method, pattern, handler in self._patterns:
            if len(pattern) != len(parts):
                continue
            params = [p for want, p in zip(pattern, parts) if want.startswith("{")]
            if all(want == p or want.startswith("{") for want, p in zip(pattern, parts)):
                if method != request.method:
                    return json_answer({"errors": [{"message": "method not allowed"}]}, 405)
                return handler(request, params)
        return json_answer({"errors": [{"message": f"no route {request.method} {request.path}"}]}, 404)


def _encode(answer: Answer, keep_alive: bool) -> bytes:
    reason = HTTPStatus(answer.status).phrase
    head = [f"HTTP/1.1 {answer.status} {reason}", f"Content-Length: {len(answer.body)}"]
    if answer.body:
        head.append(f"Content-Type: {answer.content_type}")
    head += [f"{name}: {value}" for name, value in answer.headers]
    if not keep_alive:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body


class _HttpProtocol(asyncio.Protocol):
    """One client connection: parse requests, answer them in order (a slow answer holds the next back)."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[tuple[Request, bool]] = deque()
        self._busy = False
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._waiting.clear()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._write(json_answer({"errors": [{"message": f"malformed HTTP request: {exc}"}]}, 400), False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        path, _, query = self._url.decode("latin-1").partition("?")
        request = Request(self._parser.get_method().decode(), path, query, self._headers, b"".join(self._body))
        self._waiting.append((request, self._parser.should_keep_alive()))
        if not self._busy:
            self._next()

    def _next(self) -> None:
        while self._waiting and not self._busy:
            request, keep_alive = self._waiting.popleft()
            answer = self._app.dispatch(request)
            if isinstance(answer, Answer):
                self._write(answer, keep_alive)
            else:  # a scripted delay: answer later, and only then the requests behind it
                self._busy = True
                asyncio.ensure_future(self._later(answer, keep_alive))

    async def _later(self, pending: Awaitable[Answer], keep_alive: bool) -> None:
        answer = await pending
        self._busy = False
        self._write(answer, keep_alive)
        self._next()

    def _write(self, answer: Answer, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return  # the client gave up (its timeout) before the answer
        transport.write(_encode(answer, keep_alive))
        if not keep_alive:
            transport.close()


async def start_server(app: FakeApp, sock: socket.socket) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _HttpProtocol(app), sock=sock)


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

    def stats(self, request: Request, params: list[str]) -> Answer:
        with self.lock:
            ids = [r.get("message_id") for r in self.seen]
            return json_answer({"seen": len(self.seen), "accepted": len(self.accepted), "invalid": len(self.invalid),
                                "distinct": len(set(ids))})

    def answer_next(self, *modes: str) -> None:
        with self.lock:
            self.script.extend(modes)

    def respond(self, record: dict, problems: list[str], ok: Answer) -> "Answer | Awaitable[Answer]":
        """The scripted answer: at once when there is nothing to wait for, else a coroutine that waits."""
        with self.lock:
            self.seen.append(record)
            generation = self.generation
            if problems:
                self.invalid.append({**record, "problems": problems})
                return json_answer({"errors": [{"message": p} for p in problems]}, 400)
            mode = self.script.popleft() if self.script else "ok"
            latency = self.latency_s
            if mode == "ok" and not latency:
                self.accepted.append(record)
                return ok
        return self._slow(record, mode, latency, generation, ok)

    async def _slow(self, record: dict, mode: str, latency: float, generation: int, ok: Answer) -> Answer:
        if latency:
            await asyncio.sleep(latency)
        if mode == "429":
            return json_answer({"errors": [{"message": "too many requests"}]}, 429,
                               (("Retry-After", str(self.retry_after_s)),))
        if mode == "500":
            return json_answer({"errors": [{"message": "internal error"}]}, 500)
        if mode == "timeout":
            await asyncio.sleep(self.timeout_sleep_s)
        with self.lock:
            if generation == self.generation:
                self.accepted.append(record)
        return ok


class SendGridFake(FakeApi):
    api_key = "SG.test-key"

    def app(self) -> FakeApp:
        return FakeApp([("POST", "/v3/mail/send", self.mail_send), ("GET", "/__stats", self.stats)])

    def mail_send(self, request: Request, params: list[str]) -> "Answer | Awaitable[Answer]":
        problems = []
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            problems.append("authorization header is not the expected bearer key")
        if not request.headers.get("content-type", "").startswith("application/json"):
            problems.append("content-type is not application/json")
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
            problems.append("body is not a JSON object")
        problems += sendgrid_problems(body)
        record = {"body": body, "message_id": (body.get("custom_args") or {}).get("rapport_message_id")}
        return self.respond(record, problems, Answer(202, headers=(("X-Message-Id", uuid.uuid4().hex),)))


def _first(items: object) -> dict:
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def sendgrid_problems(body: dict) -> list[str]:
    problems = []
    to = _first(_first(body.get("personalizations")).get("to")).get("email")
    if not isinstance(to, str) or "@" not in to:
        problems.append("personalizations[0].to[0].email missing")
    sender = body.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        problems.append("from.email missing")
    if not body.get("subject"):
        problems.append("subject missing")
    content = body.get("content") if isinstance(body.get("content"), list) else []
    parts = {c.get("type"): c.get("value") for c in content if isinstance(c, dict)}
    if not parts.get("text/plain"):
        problems.append("content has no text/plain part")
    custom_args = body.get("custom_args") if isinstance(body.get("custom_args"), dict) else {}
    if not custom_args.get("rapport_message_id"):
        problems.append("custom_args.rapport_message_id missing")
    if any(not isinstance(v, str) for v in custom_args.values()):  # SendGrid refuses non-string values
        problems.append("custom_args values must be strings")
    categories = body.get("categories")
    if not categories:
        problems.append("categories missing")
    elif not isinstance(categories, list) or len(categories) > 10 or len(set(categories)) != len(categories) \
            or any(not isinstance(c, str) or not c or len(c) > 255 for c in categories):
        problems.append("categories must be at most 10 distinct non-empty strings of up to 255 characters")
    asm = body.get("asm")
    if asm is not None and not (isinstance(asm, dict) and isinstance(asm.get("group_id"), int)):
        problems.append("asm.group_id must be an integer")
    reply_to = body.get("reply_to")
    if reply_to is not None and "@" not in str((reply_to or {}).get("email", "")):
        problems.append("reply_to.email is not an address")
    return problems


E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class TwilioFake(FakeApi):
    account_sid = "AC" + "0" * 32
    auth_token = "twilio-test-token"
    service_sid = "MG" + "1" * 32

    def app(self) -> FakeApp:
        return FakeApp([("POST", "/2010-04-01/Accounts/{sid}/Messages.json", self.create_message),
                        ("POST", "/2010-04-01/Accounts/{sid}/Calls.json", self.create_call),
                        ("GET", "/__stats", self.stats)])

    def _auth_problems(self, request: Request, sid: str) -> list[str]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        problems = [] if request.headers.get("authorization") == expected else ["basic auth is not sid:token"]
        if sid != self.account_sid:
            problems.append("account sid in the path is wrong")
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            problems.append("content-type is not application/x-www-form-urlencoded")
        return problems

    def create_message(self, request: Request, params: list[str]) -> "Answer | Awaitable[Answer]":
        problems = self._auth_problems(request, params[0])
        form = request.form()
        for name in ("To", "Body", "MessagingServiceSid"):
            if not form.get(name):
                problems.append(f"{name} missing")
        if form.get("MessagingServiceSid") not in (None, self.service_sid):
            problems.append("MessagingServiceSid is not the configured one")
        if form.get("To") and not E164.fullmatch(form["To"]):
            problems.append("To is not an E.164 number")
        if len(form.get("Body", "")) > 1600:  # Twilio refuses longer bodies (error 21617)
            problems.append("Body is longer than 1600 characters")
        if form.get("StatusCallback") and not form["StatusCallback"].startswith(("http://", "https://")):
            problems.append("StatusCallback is not an http(s) URL")
        sid = "SM" + uuid.uuid4().hex
        record = {"form": form, "message_id": (form.get("StatusCallback") or "").rpartition("message_id=")[2]}
        payload = {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "body": form.get("Body"),
                   "status": "accepted", "messaging_service_sid": form.get("MessagingServiceSid")}
        return self.respond(record, problems, json_answer(payload, 201))

    def create_call(self, request: Request, params: list[str]) -> "Answer | Awaitable[Answer]":
        problems = self._auth_problems(request, params[0])
        form = request.form()
        for name in ("To", "From", "Twiml"):
            if not form.get(name):
                problems.append(f"{name} missing")
        if "<Say" not in form.get("Twiml", ""):
            problems.append("Twiml has no <Say>")
        sid = "CA" + uuid.uuid4().hex
        payload = {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "status": "queued"}
        return self.respond({"form": form, "message_id": None}, problems, json_answer(payload, 201))


class ServerThread:
    """Serves a fake's app on a free local port from an event loop in a daemon thread."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(start_server(self._app, self._sock))
        self._started.set()
        self._loop.run_forever()
        for task in asyncio.all_tasks(self._loop):  # answers still waiting (scripted timeouts)
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the fake server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._sock.close()


def serve_forever(kind: str, port: int) -> None:
    """Entry point for running a fake in its own process (benchmarks), on uvloop."""
    import uvloop

    fake = SendGridFake() if kind == "sendgrid" else TwilioFake()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))

    async def main() -> None:
        server = await start_server(fake.app(), sock)
        await server.serve_forever()

    uvloop.run(main())


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
