"""The flat forest gives scikit-learn's predictions (it replaces them when scoring a few rows)."""
import pickle

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from rapport_scoring import synthetic
from rapport_scoring.domain.evaluation import run_evaluation
from rapport_scoring.domain.forest import FlatForest
from rapport_scoring.domain.training_set import build_rows


def _data(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learned side
    return x, rng


def test_flat_classifier_matches_predict_proba():
    x, rng = _data()
    y = ((np.nan_to_num(x[:, 0]) + rng.normal(size=len(x))) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(x, y)
    assert np.allclose(FlatForest.of(model).probability(x[:300]), model.predict_proba(x[:300])[:, 1], atol=1e-9)


def test_flat_quantile_regressor_matches_predict():
    x, rng = _data(5)
    y = np.nan_to_num(x[:, 1]) * 10 + rng.exponential(5, size=len(x))
    model = HistGradientBoostingRegressor(loss="quantile", quantile=0.9, max_iter=30, random_state=0).fit(x, y)
    assert np.allclose(FlatForest.of(model).raw(x[:300]), model.predict(x[:300]), atol=1e-9)


def test_payment_model_small_batches_equal_large_batch_path_and_survive_pickling():
    invoices = synthetic.ledger(60, 12, seed=4)
    model, _ = run_evaluation(invoices)
    x = np.asarray([r.features for r in build_rows(invoices)[:40]])
    expected_p = np.clip(model.calibrator.predict(model.classifier.predict_proba(x)[:, 1]), 0.001, 0.999)
    expected_q = model.days_to_pay(np.repeat(x, 10, axis=0))[::10]  # > 256 rows: scikit-learn's predict
    assert np.allclose(model.late_probability(x), expected_p, atol=1e-9)
    assert np.allclose(model.days_to_pay(x), expected_q, atol=1e-9)
    restored = pickle.loads(pickle.dumps(model))
    assert "_flat_forests" not in restored.__dict__
    assert np.allclose(restored.late_probability(x[:3]), expected_p[:3], atol=1e-9)


def test_merged_walk_of_all_four_forests_equals_each_model_alone():
    invoices = synthetic.ledger(60, 12, seed=4)
    model, _ = run_evaluation(invoices)
    x = np.asarray([r.features for r in build_rows(invoices)[:60]])
    p, q = model.predict(x)
    assert np.allclose(p, model.late_probability(x), atol=1e-12)
    assert np.allclose(q, model.days_to_pay(x), atol=1e-9)
    big = np.repeat(x, 5, axis=0)  # > 256 rows: scikit-learn's predict for both
    assert np.allclose(model.predict(big)[1][::5], q, atol=1e-9)
