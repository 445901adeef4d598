"""The model against the customer's-own-history baseline on data with known structure."""
import numpy as np

from rapport_scoring import synthetic
from rapport_scoring.domain.evaluation import run_evaluation, time_split
from rapport_scoring.domain.feature_matrix import build_matrix


def test_model_beats_own_history_baseline_on_structured_data():
    invoices = synthetic.ledger(120, 24, seed=11)
    _, report = run_evaluation(invoices)
    model, baseline = report["model"], report["baseline"]
    assert model["auc"] > baseline["auc"] + 0.03
    assert model["brier"] < baseline["brier"]
    assert model["mae_days"] < baseline["mae_days"]
    assert 0.5 < report["interval_coverage_p10_p90"] <= 1.0


def test_time_split_trains_only_on_what_settled_before_the_cutoff():
    split = time_split(build_matrix(synthetic.ledger(20, 10, seed=2)))
    cutoff = split.cutoff.toordinal()
    assert np.all(split.train.settled < cutoff)
    assert np.all(split.test.issue >= cutoff) and np.all(split.test.is_settled)
    assert len(split.train) and len(split.test)


def test_quantiles_are_ordered_and_probabilities_bounded():
    invoices = synthetic.ledger(60, 12, seed=4)
    model, _ = run_evaluation(invoices)
    x = build_matrix(invoices).x[:200]
    q = model.days_to_pay(x)
    p = model.late_probability(x)
    assert np.all(q[:, 0] <= q[:, 1]) and np.all(q[:, 1] <= q[:, 2])
    assert np.all((p > 0) & (p < 1))


def test_conformal_widening_by_hand():
    from rapport_scoring.domain.model import conformal_widening

    q = np.asarray([[10.0, 20.0, 30.0]] * 5)
    actual = np.asarray([5.0, 15.0, 25.0, 34.0, 40.0])
    # scores: 5, -5, -5, 4, 10; level ceil(6 * 0.8) / 5 = 1.0 -> the largest score
    assert conformal_widening(q, actual) == 10.0
    # with 80 % coverage of 9 outcomes: ceil(10 * 0.8) = 8th smallest score
    actual = np.asarray([11, 12, 13, 14, 15, 16, 31, 32, 45], dtype=float)
    assert conformal_widening(np.asarray([[10.0, 20.0, 30.0]] * 9), actual) == 2.0


def test_widened_intervals_cover_about_80_percent_of_the_test_set():
    _, report = run_evaluation(synthetic.ledger(120, 24, seed=11))
    assert 0.7 <= report["interval_coverage_p10_p90"] <= 0.92


def test_a_model_registered_before_new_features_predicts_on_its_own_columns():
    from dataclasses import replace

    from rapport_scoring.domain.feature_matrix import segment_priors_of
    from rapport_scoring.domain.features import FEATURE_NAMES
    from rapport_scoring.domain.model import train

    rows = build_matrix(synthetic.ledger(40, 12, seed=6))
    old = len(FEATURE_NAMES) - 2  # before disputes_before and open_disputes
    model = train(replace(rows, x=rows.x[:, :old]), segment_priors_of(rows))
    model.feature_names = FEATURE_NAMES[:old]
    raw = model.classifier.predict_proba(rows.x[:300, :old])[:, 1]
    expected = np.clip(np.interp(raw, model.calibrator.X_thresholds_, model.calibrator.y_thresholds_), 0.001, 0.999)
    assert np.allclose(model.late_probability(rows.x[:300]), expected)
    assert model.days_to_pay(rows.x[:5]).shape == (5, 3)
