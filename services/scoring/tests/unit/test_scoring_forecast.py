"""Cash forecast mechanics and its backtest."""
from datetime import date, timedelta

import numpy as np
import pytest

from rapport_scoring.domain import forecast
from rapport_scoring.domain.facts import InvoiceFact

AS_OF = date(2025, 6, 2)


def test_customer_that_always_pays_five_days_late_is_forecast_exactly():
    items = [forecast.OpenItem("c", AS_OF + timedelta(days=10), 100.0)]
    totals = forecast.simulate(items, {"c": [5, 5, 5]}, AS_OF, simulations=50)
    assert totals.shape == (50, forecast.HORIZON_DAYS)
    assert np.all(totals[:, 15] == 100.0) and totals.sum() == 50 * 100.0


def test_overdue_invoice_is_expected_no_earlier_than_today():
    items = [forecast.OpenItem("c", AS_OF - timedelta(days=30), 40.0)]
    totals = forecast.simulate(items, {"c": [0, 1, 2]}, AS_OF, simulations=20)
    assert np.all(totals[:, 0] == 40.0)


def test_new_customer_uses_the_tenant_pool_and_bands_are_ordered():
    items = [forecast.OpenItem("new", AS_OF + timedelta(days=3), 100.0) for _ in range(30)]
    lateness = {"a": [0, 0, 0], "b": [14, 14, 14]}
    summary = forecast.summarise(forecast.simulate(items, lateness, AS_OF), AS_OF)
    weeks = summary["weekly"]
    assert len(weeks) == 13 and len(summary["daily"]) == forecast.HORIZON_DAYS
    assert all(w["p10"] <= w["p50"] <= w["p90"] for w in weeks)
    assert sum(w["p50"] for w in weeks[:3]) == pytest.approx(3000, rel=0.2)
    assert weeks[0]["p50"] > 0 and weeks[2]["p50"] > 0  # both habits show up


def test_backtest_of_a_perfectly_regular_payer_has_zero_wape():
    invoices = [InvoiceFact(i, "c", date(2025, 1, 6) + timedelta(days=7 * i), date(2025, 1, 6) + timedelta(days=7 * i + 7), 100.0,
                            date(2025, 1, 6) + timedelta(days=7 * i + 10)) for i in range(25)]
    result = forecast.backtest(invoices, date(2025, 6, 2), weeks=6)
    assert len(result["weeks"]) == 6
    assert result["wape"] == pytest.approx(0.0)
    assert all(w["actual"] == 100.0 for w in result["weeks"])
