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


def test_quantile_function_passes_through_p10_p50_p90_and_inverts_the_cdf():
    q = np.asarray([10.0, 20.0, 40.0])
    u = np.asarray([0.0, 0.1, 0.3, 0.5, 0.9])
    assert forecast.quantile_days(q, u).tolist() == pytest.approx([7.5, 10.0, 15.0, 20.0, 40.0])
    # beyond P90 an exponential tail: with a 10 %-a-week hazard, half of what is left after P90 takes ~46 days
    scale = forecast.tail_scale_days(0.1)
    assert forecast.quantile_days(q, np.asarray(0.95), scale) == pytest.approx(40 + 7 * np.log(2) / -np.log(0.9))
    t = np.asarray([8.0, 12.0, 33.0, 60.0])
    assert forecast.quantile_days(q, forecast.cdf(q, t, scale), scale) == pytest.approx(t)


def test_simulated_collections_follow_the_predicted_pay_dates():
    offsets = np.asarray([[3.0, 3.0, 3.0]] * 4)  # four invoices predicted for day 3 (a 10 % tail of a day's scale)
    totals = forecast.simulate_quantiles(offsets, np.asarray([10.0, 10.0, 10.0, 10.0]), simulations=300)
    assert np.all(totals[:, :3] == 0) and totals.sum() == pytest.approx(300 * 40.0)
    assert totals[:, 3].mean() >= 36.0 and totals[:, 3:10].sum() == pytest.approx(totals.sum(), rel=0.01)
    # Long past its P90 and still open: paid at the measured weekly hazard, not all on day 0.
    overdue = np.asarray([[-60.0, -50.0, -40.0]] * 1000)
    weekly = forecast.simulate_quantiles(overdue, np.ones(1000), horizon=7, simulations=20,
                                         tail_scale=forecast.tail_scale_days(0.2))
    assert weekly.sum(axis=1).mean() == pytest.approx(200, rel=0.15)
    spread = forecast.simulate_quantiles(np.asarray([[5.0, 20.0, 35.0]] * 400), np.ones(400), simulations=50)
    shares = spread.sum(axis=0) / spread.sum()
    assert shares[:6].sum() == pytest.approx(0.1, abs=0.03) and shares[:21].sum() == pytest.approx(0.5, abs=0.05)


class _Exact:
    """A 'model' that knows every invoice's days to pay exactly (P10 = P50 = P90)."""

    def __init__(self, rows):
        self.rows = rows

    def days_to_pay(self, x):
        index = [int(np.flatnonzero((self.rows.x == r).all(axis=1))[0]) for r in x]
        days = np.nan_to_num(self.rows.days_to_pay[index], nan=1e4)
        return np.repeat(days[:, None], 3, axis=1)


def test_model_backtest_with_a_perfect_model_has_zero_wape_and_only_out_of_sample_weeks():
    from rapport_scoring.domain.feature_matrix import build_matrix

    invoices = [InvoiceFact(i, f"c{i % 3}", date(2025, 1, 6) + timedelta(days=3 * i), date(2025, 1, 6) + timedelta(days=3 * i + 14),
                            100.0 + i, date(2025, 1, 6) + timedelta(days=3 * i + 9 + i % 7)) for i in range(60)]
    rows = build_matrix(invoices)
    first = date(2025, 4, 1).toordinal()
    result = forecast.model_backtest(_Exact(rows), rows, first, weeks=8)
    assert result["weeks"] and all(date.fromisoformat(w["week_start"]).toordinal() >= first for w in result["weeks"])
    assert result["wape"] == pytest.approx(0.0)
    assert sum(w["actual"] for w in result["weeks"]) > 0


def test_array_resampling_equals_the_object_form():
    from rapport_scoring.domain.feature_matrix import InvoiceColumns

    invoices = [InvoiceFact(i, "c", date(2025, 1, 6) + timedelta(days=7 * i), date(2025, 1, 6) + timedelta(days=7 * i + 7), 100.0,
                            date(2025, 1, 6) + timedelta(days=7 * i + 10)) for i in range(25)]
    cols = InvoiceColumns.of(invoices)
    assert forecast.backtest_arrays(cols, date(2025, 6, 2), weeks=6) == forecast.backtest(invoices, date(2025, 6, 2), weeks=6)
    # a customer with its own habit (3+ settled) and one without history (the tenant's pool)
    late_customer, late_days = np.asarray([0, 0, 0, 1]), np.asarray([5, 5, 5, 9])
    totals = forecast.simulate_arrays(np.asarray([0, 2, -1]), np.asarray([10, 3, 20]), np.asarray([100.0, 10.0, 1.0]),
                                      late_customer, late_days, simulations=40)
    assert np.all(totals[:, 15] == 100.0)
    assert set(np.flatnonzero(totals.sum(axis=0))) <= {15, 8, 12, 25, 29}  # 3 + (5 or 9), 20 + (5 or 9)
    assert totals.sum() == pytest.approx(40 * 111.0)


def test_array_backtest_matches_the_object_backtest_on_a_random_portfolio():
    import random

    from rapport_scoring.domain.feature_matrix import InvoiceColumns

    rng = random.Random(4)
    invoices = []
    for i in range(400):
        issue = date(2025, 1, 1) + timedelta(days=rng.randint(0, 150))
        settled = None if rng.random() < 0.2 else issue + timedelta(days=rng.randint(5, 70))
        invoices.append(InvoiceFact(i, f"c{rng.randint(0, 30)}", issue, issue + timedelta(days=30), float(rng.randint(1, 900)), settled))
    as_of = date(2025, 6, 1)
    objects, arrays = forecast.backtest(invoices, as_of, 8), forecast.backtest_arrays(InvoiceColumns.of(invoices), as_of, 8)
    assert [w["actual"] for w in arrays["weeks"]] == [w["actual"] for w in objects["weeks"]]
    # the same draws from differently laid-out pools: the medians agree closely, not bit for bit
    for a, b in zip(arrays["weeks"], objects["weeks"]):
        assert a["forecast_p50"] == pytest.approx(b["forecast_p50"], rel=0.25, abs=300)
    assert arrays["wape"] == pytest.approx(objects["wape"], abs=0.15)
