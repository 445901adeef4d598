"""No feature may use anything dated on or after the prediction day (leakage)."""
import random
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from rapport_scoring import synthetic
from rapport_scoring.domain.facts import InvoiceFact, TouchFact
from rapport_scoring.domain.features import FEATURE_NAMES, Prior, features_as_of
from rapport_scoring.domain.feature_matrix import build_matrix
from rapport_scoring.domain.training_set import build_rows, segment_prior_as_of


def _touches(invoices, seed=1):
    rng = random.Random(seed)
    return [TouchFact(i.customer_id, i.due_date + timedelta(days=rng.randint(-3, 10)), rng.choice(["email", "sms"]),
                      rng.randint(8, 18), rng.random() < 0.4) for i in invoices[::3]]


def _scrub_future(invoices, touches, as_of):
    """What the world looked like on ``as_of``: later invoices unknown, later payments not yet made."""
    known = [i for i in invoices if i.issue_date < as_of]
    known = [i if i.settled_on is None or i.settled_on < as_of else replace(i, settled_on=None) for i in known]
    known = [i if i.disputed_on is None or i.disputed_on < as_of else replace(i, disputed_on=None, dispute_resolved_on=None)
             for i in known]
    known = [i if i.dispute_resolved_on is None or i.dispute_resolved_on < as_of else replace(i, dispute_resolved_on=None)
             for i in known]
    return known, [t for t in touches if t.sent_on < as_of]


def test_batch_features_equal_features_computed_without_the_future():
    invoices = synthetic.ledger(12, 25, seed=3, open_share=0.3)
    touches = _touches(invoices)
    rows = build_rows(invoices, touches)
    assert len(rows) == len(invoices)
    for row in random.Random(7).sample(rows, 80):
        as_of = row.invoice.issue_date
        past, past_touches = _scrub_future(invoices, touches, as_of)
        mine = [i for i in past if i.customer_id == row.invoice.customer_id]
        prior = segment_prior_as_of(past, row.invoice.segment, as_of)
        expected = features_as_of(mine, [t for t in past_touches if t.customer_id == row.invoice.customer_id],
                                  row.invoice, as_of, prior)
        assert row.features == pytest.approx(expected), row.invoice


def _random_portfolio(seed):
    """Few customers, many collisions: same-day issues and settlements, paid before issue, due before issue."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    invoices = []
    for k in range(rng.randint(1, 400)):
        issue = start + timedelta(days=rng.randint(0, 120))
        due = issue + timedelta(days=rng.choice([-5, 0, 1, 14, 30, 45]))
        settled = None if rng.random() < 0.3 else issue + timedelta(days=rng.randint(-3, 90))
        disputed = issue + timedelta(days=rng.randint(-2, 40)) if rng.random() < 0.25 else None
        resolved = disputed + timedelta(days=rng.randint(-1, 20)) if disputed and rng.random() < 0.6 else None
        invoices.append(InvoiceFact(f"i{k}", f"c{rng.randint(0, 12)}", issue, due, round(rng.uniform(0, 5000), 2),
                                    settled, rng.choice(["small", "large", "default"]), disputed, resolved))
    touches = [TouchFact(f"c{rng.randint(0, 14)}", start + timedelta(days=rng.randint(-40, 160)),
                         rng.choice(["email", "sms"]), rng.randint(8, 18), rng.random() < 0.4)
               for _ in range(rng.randint(0, 300))]
    return invoices, touches


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_features_equal_the_reference_walk_on_random_portfolios(seed):
    """The training path (``build_matrix``) computes exactly what the row-by-row reference does."""
    invoices, touches = _random_portfolio(seed)
    by_id = {r.invoice.invoice_id: r for r in build_rows(invoices, touches)}
    rows = build_matrix(invoices, touches)
    expected = np.asarray([by_id[i.invoice_id].features for i in invoices])
    assert rows.x == pytest.approx(expected, rel=1e-9, abs=1e-9)
    own = [by_id[i.invoice_id].own_late_rate for i in invoices]
    assert np.array_equal(np.isnan(rows.own_late_rate), np.asarray([o is None for o in own]))


def test_vectorised_features_equal_features_computed_without_the_future():
    """The leakage check, on the vectorised path directly: each row from a world with the future removed."""
    invoices, touches = _random_portfolio(99)
    rows = build_matrix(invoices, touches)
    for k in random.Random(3).sample(range(len(invoices)), 60):
        target = invoices[k]
        as_of = target.issue_date
        past, past_touches = _scrub_future(invoices, touches, as_of)
        mine = [i for i in past if i.customer_id == target.customer_id]
        prior = segment_prior_as_of(past, target.segment, as_of)
        expected = features_as_of(mine, [t for t in past_touches if t.customer_id == target.customer_id],
                                  target, as_of, prior)
        assert list(rows.x[k]) == pytest.approx(expected, rel=1e-9, abs=1e-9), target


def test_changing_the_future_changes_no_vectorised_feature():
    invoices, touches = _random_portfolio(5)
    cut = date(2024, 3, 1)
    later = [replace(i, settled_on=i.settled_on + timedelta(days=60)) if i.settled_on and i.settled_on >= cut else i
             for i in invoices]
    later += [InvoiceFact("late-arrival", "c1", cut + timedelta(days=1), cut, 1e6, cut + timedelta(days=2), "small")]
    before = [k for k, i in enumerate(invoices) if i.issue_date <= cut]
    assert before
    assert build_matrix(later, touches + [TouchFact("c1", cut, "sms", 9, True)]).x[before] == \
        pytest.approx(build_matrix(invoices, touches).x[before], rel=1e-12, abs=1e-12)


def test_changing_the_future_changes_no_feature():
    invoices = synthetic.ledger(1, 30, seed=5)
    target = invoices[15]
    as_of = target.issue_date
    future_changed = [replace(i, settled_on=i.settled_on + timedelta(days=90)) if i.settled_on and i.settled_on >= as_of else i
                      for i in invoices]
    future_changed += [InvoiceFact("late-arrival", target.customer_id, as_of + timedelta(days=1),
                                   as_of + timedelta(days=5), 1e6, None)]
    assert features_as_of(invoices, [], target, as_of, Prior()) == features_as_of(future_changed, [], target, as_of, Prior())


def test_disputes_count_only_before_the_prediction_day():
    day = date(2025, 5, 1)
    history = [
        InvoiceFact("a", "c", date(2025, 1, 1), date(2025, 2, 1), 100.0, None, "default", date(2025, 2, 3), date(2025, 3, 1)),
        InvoiceFact("b", "c", date(2025, 2, 1), date(2025, 3, 1), 100.0, None, "default", date(2025, 3, 5), day),
        InvoiceFact("d", "c", date(2025, 3, 1), date(2025, 4, 1), 100.0, None, "default", day),  # opened on the day
    ]
    target = InvoiceFact("t", "c", day, day + timedelta(days=30), 100.0)
    f = dict(zip(FEATURE_NAMES, features_as_of(history + [target], [], target, day, Prior())))
    assert f["disputes_before"] == 2  # a and b; d's dispute is not known yet
    assert f["open_disputes"] == 1  # b is resolved only on the day itself
    row = build_matrix(history + [target]).x[-1]
    assert dict(zip(FEATURE_NAMES, row)) == pytest.approx(f)


def test_same_day_settlement_is_not_known_at_prediction():
    day = date(2025, 5, 1)
    paid_same_day = InvoiceFact("a", "c", day - timedelta(days=40), day - timedelta(days=10), 100.0, day)
    target = InvoiceFact("b", "c", day, day + timedelta(days=30), 100.0)
    features = dict(zip(FEATURE_NAMES, features_as_of([paid_same_day, target], [], target, day, Prior())))
    assert features["n_settled"] == 0
    assert features["open_count"] == 1
    assert features["overdue_count"] == 1


def test_history_features_by_hand():
    day = date(2025, 6, 1)
    history = [
        InvoiceFact("1", "c", date(2025, 1, 1), date(2025, 1, 31), 100.0, date(2025, 1, 21)),  # 10 early
        InvoiceFact("2", "c", date(2025, 2, 1), date(2025, 3, 3), 300.0, date(2025, 3, 23)),   # 20 late
    ]
    target = InvoiceFact("3", "c", day, day + timedelta(days=30), 400.0)
    f = dict(zip(FEATURE_NAMES, features_as_of(history + [target], [], target, day, Prior(late_rate=0.5))))
    assert f["n_settled"] == 2
    assert f["late_rate"] == pytest.approx((1 + 2 * 0.5) / (2 + 2))
    assert f["mean_days_late"] == 5
    assert f["mean_days_to_pay"] == pytest.approx((20 + 50) / 2)
    assert f["amount_ratio"] == 2.0  # 400 against a usual 200
    assert f["terms_days"] == 30 and f["issue_day_of_month"] == 1


def test_payment_before_issue_counts_as_paid_on_issue_day():
    fact = InvoiceFact("x", "c", date(2025, 1, 10), date(2025, 2, 10), 1.0, date(2025, 1, 1))
    assert fact.settled_on == date(2025, 1, 10)
    assert fact.days_to_pay() == 0
