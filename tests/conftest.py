"""Fixtures of the system tests (tests/e2e, tests/reliability, tests/contract).

``stack`` is one running Rapport (every service's processes) on the run's ``infra`` slice,
shared by the system tests of a session; tests keep apart by using their own tenant.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PORTAL_LINK_SECRET, Stack, processes_of  # noqa: E402
from rapport_shared.infra.naming import SERVICES  # noqa: E402
from rapport_shared.testing.infra import TestInfra, create_slice, destroy_slice  # noqa: E402

ADMIN_TOKEN = "dev-admin-token"


def artifacts(repo_root: Path, name: str) -> Path:
    """A fresh log folder: logs of an earlier run must never satisfy this run's waits."""
    path = repo_root / "test-artifacts" / "logs" / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def infra(repo_root: Path):
    """The system tests' own slice (database and topic prefix), never the one the service suites share.

    In a full run every suite's session-scoped fixtures live until the session ends, on the
    session's one event loop: ingest's in-process outbox relay (its ``relay`` fixture) went
    on draining the shared slice's ``ingest.outbox`` while the system tests ran, and took the
    rows the relay-SIGKILL test was about to publish. Whatever a service suite leaves running
    now acts on its own slice only.
    """
    slice_: TestInfra = create_slice(repo_root)
    yield slice_
    destroy_slice(slice_)


@pytest.fixture
def log_dir(request, repo_root: Path) -> Path:
    """Where this test's processes write their logs."""
    return artifacts(repo_root, request.node.name)


@pytest.fixture(scope="session")
def sink_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("outreach-sink")


@pytest.fixture(scope="session")
async def stack(infra, repo_root: Path, sink_dir: Path):
    """Every service migrated and all its processes running against the session's slice."""
    running = Stack(infra, artifacts(repo_root, "system-stack"),
                    RAPPORT_OUTREACH_SINK_DIR=str(sink_dir), RAPPORT_PORTAL_LINK_SECRET=PORTAL_LINK_SECRET,
                    RAPPORT_OUTREACH_EMAIL_PROVIDER="sink", RAPPORT_OUTREACH_SMS_PROVIDER="sink",
                    RAPPORT_PORTAL_UPLOAD_DIR=str(sink_dir.parent / "portal-uploads"))
    try:
        running.migrate(*SERVICES)
        for service in SERVICES:
            for proc in processes_of(repo_root, service):
                running.spawn(service, proc)
        for service in SERVICES:
            await running.wait_ready(service, timeout=240)
        yield running
    finally:
        running.stop_all()
