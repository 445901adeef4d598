"""Run the real service processes (``rapport-<svc> api|consumer|relay|...``) against a test slice.

Each process gets the slice's environment (``infra.env``), a free HTTP port for its API,
and a log file ``test-artifacts/logs/<test>/<svc>-<proc>.log``. APIs are awaited on
``/readyz``; workers on their start-up log line. Teardown sends SIGTERM, then SIGKILL.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rapport_shared.infra.naming import SERVICES, schema_of
from rapport_shared.infra.provision import drop_database, provision_database
from rapport_shared.infra.topics import create_topics, delete_topics
from rapport_shared.testing.infra import TestInfra

from harness.ports import free_port

SCRIPTS = {"ingest": "rapport-ingest", "scheduler": "rapport-scheduler", "outreach": "rapport-outreach",
           "scoring": "rapport-scoring", "portal-api": "rapport-portal"}
# A worker is up once it has logged one of these (see rapport_shared.bus.workers).
READY_LINES = {"consumer": "partitions assigned", "relay": "outbox relay started"}
STOP_GRACE_S = 20.0


# The processes the skeleton flow needs, in start order; a service runs those its CLI offers.
# (Scoring's periodic ``trainer`` and one-shot commands are not part of the flow.)
FLOW_PROCESSES = ("api", "consumer", "relay", "ticker", "sender")


def processes_of(repo_root: Path, service: str) -> list[str]:
    """The flow's long-running commands that this service's CLI offers."""
    mains = list((repo_root / "services" / service / "src").glob("rapport_*/__main__.py"))
    found = re.findall(r"@cli\.command\([^)]*\)\s*\n\s*def (\w+)\(", mains[0].read_text()) if mains else []
    return [name for name in FLOW_PROCESSES if name in found]


@dataclass
class Proc:
    service: str
    name: str
    popen: subprocess.Popen
    log_path: Path
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)


class Stack:
    """Service processes of one test, all against one infrastructure slice."""

    def __init__(self, infra: TestInfra, log_dir: Path, **env: str) -> None:
        self.infra = infra
        self.log_dir = log_dir
        self.env_extra = dict(env)
        self.procs: dict[tuple[str, str], Proc] = {}
        self.ports: dict[str, int] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ lifecycle
    def env_for(self, service: str, proc: str) -> dict[str, str]:
        prefix = f"RAPPORT_{schema_of(service).upper()}_"
        port = self.ports.setdefault(service, free_port())
        return self.infra.env(**{f"{prefix}HTTP_PORT": str(port), f"{prefix}METRICS_PORT": "0",
                                 "RAPPORT_STARTUP_TIMEOUT_S": "600", **self.env_extra})

    def migrate(self, *services: str) -> None:
        """``rapport-<svc> migrate`` for each service, side by side (each touches only its schema)."""
        running = []
        for service in services or SERVICES:
            log = (self.log_dir / f"{service}-migrate.log").open("a")
            running.append((service, log, subprocess.Popen([self._bin(service), "migrate"], stdout=log,
                                                           stderr=subprocess.STDOUT, env=self.env_for(service, "migrate"))))
        for service, log, popen in running:
            code = popen.wait(timeout=300)
            log.close()
            if code != 0:
                raise AssertionError(f"{service} migrate exited {code}\n{self.tail(service, 'migrate')}")

    def spawn(self, service: str, proc: str, **env: str) -> Proc:
        """Start one process without waiting for it."""
        key = (service, proc)
        if key in self.procs and self.procs[key].popen.poll() is None:
            raise RuntimeError(f"{service} {proc} is already running")
        full_env = {**self.env_for(service, proc), **env}
        log_path = self.log_dir / f"{service}-{proc}.log"
        log = log_path.open("a")
        log.write(f"\n===== {time.strftime('%H:%M:%S')} starting {service} {proc}\n")
        log.flush()
        popen = subprocess.Popen([self._bin(service), proc], env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                 cwd=self.infra.repo_root, start_new_session=True)
        log.close()
        self.procs[key] = Proc(service, proc, popen, log_path, self.ports[service], env)
        return self.procs[key]

    async def start(self, service: str, proc: str, *, timeout: float = 120.0, **env: str) -> Proc:
        """Start one process and wait until it is ready (``/readyz`` or its start-up line)."""
        mark = self._log_size(service, proc)
        started = self.spawn(service, proc, **env)
        if proc == "api":
            await self.wait_ready(service, timeout=timeout)
        elif proc in READY_LINES:
            await self.wait_log(service, proc, READY_LINES[proc], timeout=timeout, since=mark)
        return started

    async def start_service(self, service: str, *, procs: list[str] | None = None) -> None:
        for proc in procs or processes_of(self.infra.repo_root, service):
            await self.start(service, proc)

    def kill(self, service: str, proc: str, sig: int = signal.SIGKILL) -> None:
        target = self.procs[(service, proc)].popen
        if target.poll() is None:
            target.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self._reap(target)

    async def restart(self, service: str, proc: str, *, timeout: float = 120.0) -> Proc:
        previous = self.procs[(service, proc)]
        self.stop(service, proc)
        return await self.start(service, proc, timeout=timeout, **previous.env)

    async def restart_with(self, service: str, proc: str, *, timeout: float = 120.0, **env: str) -> Proc:
        """Restart a process with only ``env`` on top of the stack's environment (earlier overrides dropped)."""
        self.stop(service, proc)
        return await self.start(service, proc, timeout=timeout, **env)

    def stop(self, service: str, proc: str) -> None:
        popen = self.procs[(service, proc)].popen
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
        self._reap(popen)

    def stop_all(self) -> None:
        for item in self.procs.values():
            if item.popen.poll() is None:
                item.popen.send_signal(signal.SIGTERM)
        for item in self.procs.values():
            self._reap(item.popen)

    def running(self, service: str, proc: str) -> bool:
        key = (service, proc)
        return key in self.procs and self.procs[key].popen.poll() is None

    # ------------------------------------------------------------------ observing
    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def client(self, service: str, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url(service), timeout=30.0, **kwargs)

    async def readyz(self, service: str) -> httpx.Response:
        async with self.client(service) as client:
            return await client.get("/readyz")

    async def wait_ready(self, service: str, *, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self._fail_if_dead(service, "api")
            try:
                response = await self.readyz(service)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(0.3)
        raise AssertionError(f"{service} api not ready after {timeout:.0f}s: {last}\n{self.tail(service, 'api')}")

    def log_text(self, service: str, proc: str) -> str:
        path = self.log_dir / f"{service}-{proc}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self, service: str, proc: str, lines: int = 25) -> str:
        return "\n".join(self.log_text(service, proc).splitlines()[-lines:])

    async def wait_log(self, service: str, proc: str, needle: str, *, timeout: float = 120.0, since: int = 0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text(service, proc)[since:]
            for line in text.splitlines():
                if needle in line:
                    return line
            self._fail_if_dead(service, proc)
            await asyncio.sleep(0.25)
        raise AssertionError(f"{service} {proc}: no log line with {needle!r} after {timeout:.0f}s\n{self.tail(service, proc)}")

    # ------------------------------------------------------------------ internals
    def _bin(self, service: str) -> str:
        return str(self.infra.repo_root / ".venv" / "bin" / SCRIPTS[service])

    def _log_size(self, service: str, proc: str) -> int:
        return len(self.log_text(service, proc))

    def _fail_if_dead(self, service: str, proc: str) -> None:
        item = self.procs.get((service, proc))
        if item and item.popen.poll() is not None:
            raise AssertionError(f"{service} {proc} exited with {item.popen.returncode}\n{self.tail(service, proc, 40)}")

    @staticmethod
    def _reap(popen: subprocess.Popen) -> None:
        try:
            popen.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout=10)


async def private_slice(repo_root: Path, admin_url: str, bootstrap: str) -> TestInfra:
    """A database and topics of its own (e.g. on a private broker), so its relays drain their own outboxes."""
    token = uuid.uuid4().hex[:10]
    infra = TestInfra(bootstrap, admin_url, f"rt_{token}", f"rt{token}.", repo_root)
    await asyncio.to_thread(provision_database, admin_url, infra.database, SERVICES)
    await create_topics(bootstrap, infra.topic_prefix)
    return infra


async def destroy_private_slice(infra: TestInfra) -> None:
    if os.environ.get("RAPPORT_KEEP_TEST_DATA"):
        return
    await asyncio.to_thread(drop_database, infra.admin_url, infra.database)
    try:
        await delete_topics(infra.bootstrap, infra.topic_prefix)
    except Exception:  # noqa: BLE001 - leftover topics on a throwaway broker are harmless
        pass
