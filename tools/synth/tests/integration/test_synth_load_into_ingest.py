"""The loader against the real ingest app and Postgres: the ledger ends where the generator says."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from rapport_synth import generate_company
from rapport_synth.loader import load_company

pytestmark = pytest.mark.integration
INGEST_MIGRATIONS = Path(__file__).resolve().parents[4] / "services" / "ingest" / "migrations"


@pytest.fixture(scope="module")
async def ingest_transport(infra):
    from rapport_ingest.bootstrap import create_app
    from rapport_ingest.config import Settings
    from rapport_shared.migrations import upgrade_head

    upgrade_head(INGEST_MIGRATIONS, infra.database_url("ingest"), "ingest")
    app = create_app(Settings(**infra.settings_overrides("ingest")))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


async def test_loaded_ledger_matches_the_generated_company_and_a_reload_changes_nothing(ingest_transport, tmp_path):
    company = generate_company(seed=21, customers=6, months=2, today=date(2026, 6, 15))
    state = tmp_path / "tenant.json"
    first = await load_company(company, "http://ingest.test", "dev-admin-token", state_file=state,
                               transport=ingest_transport)
    again = await load_company(company, "http://ingest.test", "dev-admin-token", state_file=state,
                               transport=ingest_transport)
    assert again.tenant_id == first.tenant_id
    async with httpx.AsyncClient(transport=ingest_transport, base_url="http://ingest.test",
                                 headers={"Authorization": f"Bearer {first.api_key}"}) as http:
        listed = (await http.get("/v1/invoices", params={"limit": 1000})).json()["items"]
    assert {i["number"] for i in listed} == {i.number for i in company.invoices}
    for row in listed:
        assert Decimal(row["open_amount"]) == company.open_amount(row["number"]), row["number"]
