"""Every receivables formula against examples worked by hand."""
from datetime import date
from decimal import Decimal as D

import pytest

from rapport_scoring.domain import metrics
from rapport_scoring.domain.metrics import MonthSales

AS_OF = date(2026, 3, 31)


@pytest.mark.parametrize(("due", "bucket"), [
    (date(2026, 4, 15), "current"),   # not yet due
    (date(2026, 3, 31), "current"),   # due today is not late
    (date(2026, 3, 30), "d1_30"),     # 1 day late
    (date(2026, 3, 1), "d1_30"),      # 30 days late: last day of 1-30
    (date(2026, 2, 28), "d31_60"),    # 31 days late: first day of 31-60
    (date(2026, 1, 30), "d31_60"),    # 60
    (date(2026, 1, 29), "d61_90"),    # 61
    (date(2025, 12, 31), "d61_90"),   # 90
    (date(2025, 12, 30), "d91_120"),  # 91
    (date(2025, 12, 1), "d91_120"),   # 120
    (date(2025, 11, 30), "d120_plus"),  # 121
])
def test_aging_bucket_edges(due, bucket):
    assert metrics.bucket_of((AS_OF - due).days) == bucket


def test_aging_sums_open_amounts_per_bucket():
    items = [(date(2026, 4, 30), D("100")), (date(2026, 3, 1), D("50")), (date(2026, 2, 28), D("25")),
             (date(2025, 1, 1), D("5.5")), (date(2026, 3, 15), D("10"))]
    result = metrics.aging(items, AS_OF)
    assert result == {"current": D("100"), "d1_30": D("60"), "d31_60": D("25"), "d61_90": D(0),
                      "d91_120": D(0), "d120_plus": D("5.5")}


def test_dso_standard_best_possible_and_add():
    # receivables 300,000 of which 120,000 not yet due; 900,000 sales over 90 days
    dso = metrics.dso_standard(D(300_000), D(900_000), 90)
    best = metrics.best_possible_dso(D(120_000), D(900_000), 90)
    assert dso == D(30)
    assert best == D(12)
    assert metrics.average_days_delinquent(dso, best) == D(18)


def test_dso_without_sales_is_undefined():
    assert metrics.dso_standard(D(10), D(0), 90) is None
    assert metrics.average_days_delinquent(None, D(3)) is None


def test_dso_countback_consumes_months_newest_first():
    # 250 open: March (31 days, sales 100) and February (30 days in this example, 100) fully,
    # then 50 of January's 200 -> 31 + 30 + 50/200 * 31 = 68.75 days
    months = [MonthSales(31, D(100)), MonthSales(30, D(100)), MonthSales(31, D(200))]
    assert metrics.dso_countback(D(250), months) == D("68.75")


def test_dso_countback_within_the_first_month():
    # 40 of the current month's 160 sales over its 20 elapsed days -> 5 days
    assert metrics.dso_countback(D(40), [MonthSales(20, D(160)), MonthSales(31, D(100))]) == D(5)


def test_dso_countback_skips_months_without_sales():
    assert metrics.dso_countback(D(100), [MonthSales(31, D(0)), MonthSales(30, D(200))]) == D(46)


def test_cei():
    # (1000 + 500 - 700) / (1000 + 500 - 300) = 800 / 1200
    cei = metrics.collection_effectiveness(D(1000), D(500), D(700), D(300))
    assert cei.quantize(D("0.01")) == D("66.67")


def test_cei_perfect_collection_is_100():
    assert metrics.collection_effectiveness(D(100), D(100), D(50), D(50)) == D(100)


def test_wape():
    # (|100-110| + |200-150| + |0-10|) / (100 + 200 + 0) = 70 / 300
    assert metrics.wape([100, 200, 0], [110, 150, 10]) == pytest.approx(70 / 300)
    assert metrics.wape([0, 0], [1, 2]) is None
