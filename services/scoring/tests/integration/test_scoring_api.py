"""The analytics API and model card over HTTP, against a read model built by the handlers."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from rapport_shared.time import ManualClock

from rapport_scoring import synthetic
from rapport_scoring.adapters.bulk import copy_invoices
from rapport_scoring.bootstrap import make_rescorer
from rapport_scoring.config import Settings
from rapport_scoring.service_layer.handlers import handle
from rapport_scoring.service_layer.training import train_tenant

pytestmark = pytest.mark.integration
AS_OF = date(2026, 3, 31)


@pytest.fixture
async def book(infra, sessions, ledger):
    """Three invoices with hand-checkable figures (EUR)."""
    rescorer = make_rescorer(Settings(**infra.settings_overrides("scoring")),
                             ManualClock(datetime(2026, 3, 31, 9, tzinfo=timezone.utc)))
    cust, a, b, c, pay = (uuid.uuid4() for _ in range(5))
    events = [
        ledger.customer(cust, collector_id="ann"),
        ledger.invoice(cust, a, date(2026, 1, 1), date(2026, 1, 31), "300.00"),   # 59 days late: 31-60
        ledger.invoice(cust, b, date(2026, 3, 1), date(2026, 3, 31), "600.00"),   # due today: current
        ledger.invoice(cust, c, date(2026, 1, 10), date(2026, 2, 9), "100.00"),
        ledger.payment(cust, pay, c, "100.00", date(2026, 2, 19)),                # paid 40 days after issue
        ledger.paid(cust, c, date(2026, 1, 10), date(2026, 2, 9), "100.00", pay),
    ]
    for envelope in events:
        async with sessions.begin() as session:
            await handle(session, envelope, rescorer)
    return ledger.tenant_id, cust


def _headers(tenant_id) -> dict:
    return {"X-Tenant-Id": str(tenant_id), "X-Admin-Token": "test-admin"}


async def test_aging_by_tenant_customer_and_collector(scoring_api, book):
    tenant_id, cust = book
    async with httpx.AsyncClient(base_url=scoring_api) as client:
        tenant = (await client.get("/v1/analytics/aging", params={"as_of": "2026-03-31"}, headers=_headers(tenant_id))).json()
        by_customer = (await client.get("/v1/analytics/aging", params={"by": "customer", "as_of": "2026-03-31"},
                                        headers=_headers(tenant_id))).json()
        by_collector = (await client.get("/v1/analytics/aging", params={"by": "collector", "as_of": "2026-03-31"},
                                         headers=_headers(tenant_id))).json()
    item = tenant["items"][0]
    assert (item["currency"], item["current"], item["d31_60"], item["total"]) == ("EUR", "600.0000", "300.0000", "900.0000")
    assert by_customer["items"][0]["key"] == str(cust)
    assert by_collector["items"][0]["key"] == "ann"
    # the collector form pivots per-bucket sums: the same buckets as the tenant's
    assert {k: v for k, v in by_collector["items"][0].items() if k != "key"} == {k: v for k, v in item.items() if k != "key"}


async def test_dso_cei_and_days_to_pay(scoring_api, book):
    tenant_id, _ = book
    async with httpx.AsyncClient(base_url=scoring_api) as client:
        dso = (await client.get("/v1/analytics/dso", params={"as_of": "2026-03-31", "period_days": 90},
                                headers=_headers(tenant_id))).json()["items"][0]
        cei = (await client.get("/v1/analytics/cei", params={"as_of": "2026-03-31", "period_days": 90},
                                headers=_headers(tenant_id))).json()["items"][0]
        dtp = (await client.get("/v1/analytics/days-to-pay", headers=_headers(tenant_id))).json()["items"][0]
    # sales 1000 over 90 days (Jan 1 - Mar 31); 900 open of which 600 current
    assert dso["dso_standard"] == 81.0 and dso["best_possible_dso"] == 54.0 and dso["average_days_delinquent"] == 27.0
    # countback: March sales 600 cover 31 days, then 300 of January's 400 x 31 days (February had none)
    assert dso["dso_countback"] == pytest.approx(31 + 28 + 300 / 400 * 31, abs=0.01)
    # nothing open at the start; (0 + 1000 - 900) / (0 + 1000 - 600) = 25 %
    assert cei["cei_percent"] == 25.0
    assert dtp["average_days_to_pay"] == 40.0 and dtp["settled_invoices"] == 1


async def test_cash_forecast_has_13_weeks_and_a_backtest(scoring_api, book):
    tenant_id, _ = book
    async with httpx.AsyncClient(base_url=scoring_api, timeout=60) as client:
        body = (await client.get("/v1/analytics/cash-forecast", params={"currency": "EUR", "as_of": "2026-03-31"},
                                 headers=_headers(tenant_id))).json()
    assert len(body["weekly"]) == 13 and len(body["daily"]) == 91
    # the only history is 10 days late, so the 900 open arrive in the first fortnight
    assert sum(w["p50"] for w in body["weekly"][:2]) == 900.0
    assert len(body["backtest"]["weeks"]) == 8
    # both open invoices were scored by the consumer: the forecast draws from their predicted pay dates
    assert (body["scored_invoices"], body["resampled_invoices"]) == (2, 0)
    assert body["model_backtest"] == {"weeks": [], "wape": None, "model_version": None}  # no trained model yet


async def test_bad_requests_name_the_field(scoring_api, book):
    tenant_id, _ = book
    async with httpx.AsyncClient(base_url=scoring_api) as client:
        no_token = await client.get("/v1/analytics/aging", headers={"X-Tenant-Id": str(tenant_id)})
        bad_tenant = await client.get("/v1/analytics/aging", headers={"X-Tenant-Id": "nope", "X-Admin-Token": "test-admin"})
        bad_currency = await client.get("/v1/analytics/cash-forecast", params={"currency": "eur"}, headers=_headers(tenant_id))
        bad_group = await client.get("/v1/analytics/aging", params={"by": "planet"}, headers=_headers(tenant_id))
        no_model = await client.get("/v1/model-card", headers=_headers(uuid.uuid4()))
    assert no_token.status_code == 401 and no_token.json()["errors"][0]["field"] == "X-Admin-Token"
    assert bad_tenant.status_code == 400 and bad_tenant.json()["errors"][0]["field"] == "X-Tenant-Id"
    assert bad_currency.status_code == 422 and bad_currency.json()["errors"][0]["field"] == "query.currency"
    assert bad_group.status_code == 422 and bad_group.json()["errors"][0]["field"] == "query.by"
    assert no_model.status_code == 404


async def test_trained_model_is_registered_and_served_on_the_model_card(scoring_api, sessions, scoring_url):
    tenant_id = uuid.uuid4()
    copy_invoices(scoring_url, tenant_id, synthetic.ledger(60, 15, seed=8))
    result = await train_tenant(sessions, tenant_id, ManualClock(datetime(2026, 3, 31, tzinfo=timezone.utc)))
    assert result is not None
    async with httpx.AsyncClient(base_url=scoring_api) as client:
        card = (await client.get("/v1/model-card", headers=_headers(tenant_id))).json()
    assert card["version"] == result.version and card["kind"] == "production"
    assert card["trained_rows"] == 900
    metrics = card["metrics"]
    assert metrics["model"]["auc"] > metrics["baseline"]["auc"]
    assert {"auc", "accuracy", "brier", "mae_days"} <= set(metrics["baseline"])
    assert card["calibration"]["bins"] and all(b["count"] > 0 for b in card["calibration"]["bins"])
    # The trained model's out-of-sample cash-forecast backtest is served beside the live forecast.
    backtest = metrics["cash_forecast_backtest"]
    assert backtest["weeks"] and backtest["wape"] is not None and 0 <= backtest["wape"] < 1
    async with httpx.AsyncClient(base_url=scoring_api, timeout=60) as client:
        body = (await client.get("/v1/analytics/cash-forecast", params={"currency": "EUR"},
                                 headers=_headers(tenant_id))).json()
    assert body["model_backtest"]["model_version"] == result.version
    assert body["model_backtest"]["wape"] == backtest["wape"]
