"""Fixtures of the portal-api suite: migrated schema, app on real Postgres, fake Stripe (helpers in portal_testkit)."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from rapport_shared.migrations import upgrade_head
from rapport_shared.time import ManualClock

from rapport_portal.bootstrap import create_app
from rapport_portal.config import Settings

sys.path.insert(0, str(Path(__file__).parent))  # the suite's helpers, under a name unique in the repo
from portal_testkit import MIGRATIONS, NOW, STRIPE_KEY, FakeStripe  # noqa: E402


@pytest.fixture(scope="session")
def portal_migrated(infra) -> str:
    url = infra.database_url("portal-api")
    upgrade_head(MIGRATIONS, url, "portal")
    return url


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe(STRIPE_KEY) as fake:
        yield fake


@pytest.fixture(scope="session")
def portal_settings(infra, portal_migrated, fake_stripe, tmp_path_factory) -> Settings:
    return Settings(**infra.settings_overrides("portal-api"), upload_dir=tmp_path_factory.mktemp("uploads"),
                    stripe_api_key=STRIPE_KEY, stripe_api_base=fake_stripe.url, base_url="http://portal.test",
                    login_per_ip_per_minute=100_000, login_per_email_per_hour=100_000)


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(scope="session")
async def portal_app(portal_settings, clock) -> AsyncIterator:
    app = create_app(portal_settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def portal(portal_app):
    return portal_app.state.portal


@pytest.fixture
async def client(portal_app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal_app), base_url="http://portal.test") as c:
        yield c
