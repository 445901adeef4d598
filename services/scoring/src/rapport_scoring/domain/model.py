"""The payment model: late probability (calibrated) and days-to-pay quantiles.

HistGradientBoosting handles mixed-scale tabular features and missing history without
scaling, trains on a million rows in seconds, and ships with scikit-learn (one dependency
we already lock). Its raw probabilities are recalibrated with isotonic regression on the
most recent slice of the training window; pay dates come from three quantile-loss models.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression

from rapport_scoring.domain.features import FEATURE_NAMES, Prior
from rapport_scoring.domain.forest import FlatForest
from rapport_scoring.domain.feature_matrix import RowSet
from rapport_scoring.domain.training_set import Row

QUANTILES = (0.1, 0.5, 0.9)
CALIBRATION_SHARE = 0.2
MAX_CLASSIFIER_ROWS = 400_000
MAX_QUANTILE_ROWS = 150_000
FLAT_ROWS = 256  # up to this many rows the flat forests beat scikit-learn's batch predict


@dataclass
class PaymentModel:
    classifier: HistGradientBoostingClassifier
    calibrator: IsotonicRegression | None
    quantiles: dict[float, HistGradientBoostingRegressor]
    priors: dict[str, Prior] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES
    trained_rows: int = 0
    # Days added on both sides of P10-P90 so the interval covers 80 % of the calibration slice
    # (conformalised quantile regression): quantile models alone are overconfident here.
    interval_widening: float = 0.0
    # CPU seconds each part of the fit took (classifier, calibrator, each quantile model).
    fit_seconds: dict[str, float] = field(default_factory=dict)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        """The model's own features out of today's full vector (a model registered before a feature was added)."""
        if tuple(self.feature_names) == FEATURE_NAMES:
            return x
        if "_column_index" not in self.__dict__:
            self.__dict__["_column_index"] = [FEATURE_NAMES.index(name) for name in self.feature_names]
        return x[:, self.__dict__["_column_index"]]

    def late_probability(self, x: np.ndarray) -> np.ndarray:
        x = self._columns(x)
        if len(x) <= FLAT_ROWS:
            raw = self._flat()[0].probability(x)
        else:
            raw = self.classifier.predict_proba(x)[:, 1]
        return self._probability(raw)

    def _probability(self, raw: np.ndarray) -> np.ndarray:
        calibrated = self._calibrate(raw) if self.calibrator is not None else raw
        return np.clip(calibrated, 0.001, 0.999)

    def days_to_pay(self, x: np.ndarray) -> np.ndarray:
        """Columns P10, P50, P90 (sorted per row so quantiles never cross)."""
        x = self._columns(x)
        if len(x) <= FLAT_ROWS:
            columns = [forest.raw(x) for forest in self._flat()[1:]]
        else:
            columns = [self.quantiles[q].predict(x) for q in QUANTILES]
        return self._intervals(np.column_stack(columns))

    def _intervals(self, columns: np.ndarray) -> np.ndarray:
        q = np.sort(columns, axis=1)
        widening = getattr(self, "interval_widening", 0.0)  # models registered before it had none
        q[:, 0] = np.minimum(q[:, 0] - widening, q[:, 1])  # a narrowing never crosses P50
        q[:, 2] = np.maximum(q[:, 2] + widening, q[:, 1])
        return np.maximum(q, 0.0)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Late probability and P10/P50/P90 days to pay together; a few rows take one walk of all four forests."""
        if len(x) > FLAT_ROWS:
            return self.late_probability(x), self.days_to_pay(x)
        raw = self._merged().raw_each(self._columns(x))
        p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
        return self._probability(p), self._intervals(raw[:, 1:])

    def _merged(self) -> FlatForest:
        if "_merged_forest" not in self.__dict__:
            self.__dict__["_merged_forest"] = FlatForest.merged([self.classifier, *(self.quantiles[q] for q in QUANTILES)])
        return self.__dict__["_merged_forest"]

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        # The same piecewise-linear map as IsotonicRegression.predict (clipped), without its overhead.
        return np.interp(raw, self.calibrator.X_thresholds_, self.calibrator.y_thresholds_)

    def _flat(self) -> tuple[FlatForest, ...]:
        """Built on first use after loading, never stored with the model (see ``__getstate__``)."""
        if "_flat_forests" not in self.__dict__:
            self.__dict__["_flat_forests"] = (FlatForest.of(self.classifier),
                                              *(FlatForest.of(self.quantiles[q]) for q in QUANTILES))
        return self.__dict__["_flat_forests"]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_flat_forests", "_column_index", "_merged_forest")}

    def prior(self, segment: str) -> Prior:
        return self.priors.get(segment) or self.priors.get("default") or Prior()


def matrix(rows: Sequence[Row]) -> np.ndarray:
    return np.asarray([r.features for r in rows], dtype=np.float64)


def labels(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray]:
    late = np.asarray([1 if r.invoice.is_late() else 0 for r in rows])
    days = np.asarray([r.invoice.days_to_pay() for r in rows], dtype=np.float64)
    return late, days


def train(rows: RowSet, priors: dict[str, Prior], *, seed: int = 0) -> PaymentModel:
    """Fit on settled rows, in issue order; the newest share calibrates the probabilities."""
    settled = np.flatnonzero(rows.is_settled)
    if len(settled) < 20:
        raise ValueError(f"need at least 20 settled invoices to train, have {len(settled)}")
    if len(settled) > MAX_CLASSIFIER_ROWS:  # beyond this, more rows add time but no accuracy
        settled = np.random.default_rng(seed).choice(settled, MAX_CLASSIFIER_ROWS, replace=False)
    ordered = settled[np.argsort(rows.issue[settled], kind="stable")]
    x, late, days = rows.x[ordered], rows.late[ordered], rows.days_to_pay[ordered]
    cut = int(len(ordered) * (1 - CALIBRATION_SHARE))
    if len(np.unique(late[:cut])) < 2:
        raise ValueError("training data has only one class of outcome (all late or all on time)")
    seconds: dict[str, float] = {}
    started = time.process_time()
    classifier = _classifier(seed).fit(x[:cut], late[:cut])
    seconds["classifier"] = time.process_time() - started
    calibrator = None
    if len(np.unique(late[cut:])) > 1:
        started = time.process_time()
        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        calibrator.fit(classifier.predict_proba(x[cut:])[:, 1], late[cut:])
        seconds["calibrator"] = time.process_time() - started
    quantiles = _quantile_models(x[:cut], days[:cut], seed, seconds)
    model = PaymentModel(classifier, calibrator, quantiles, priors, trained_rows=len(ordered), fit_seconds=seconds)
    model.interval_widening = conformal_widening(model.days_to_pay(x[cut:]), days[cut:])
    return model


def conformal_widening(q: np.ndarray, actual: np.ndarray, coverage: float = 0.8) -> float:
    """How far to widen [P10, P90] so it holds ``coverage`` of held-out outcomes (CQR).

    The score of an outcome is how far it falls outside its interval (negative inside); the
    finite-sample quantile of those scores is the widening (it may be negative: a narrowing).
    """
    if len(actual) == 0:
        return 0.0
    scores = np.sort(np.maximum(q[:, 0] - actual, actual - q[:, 2]))
    rank = min(len(scores), int(np.ceil((len(scores) + 1) * coverage)))  # the k-th smallest, 1-based
    return float(scores[rank - 1])


def _classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        # Strong leaf and L2 regularisation: customers have few invoices each, so small leaves overfit.
        max_iter=150, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=50,
        l2_regularization=5.0, early_stopping=False, random_state=seed,
    )


def _quantile_models(x: np.ndarray, days: np.ndarray, seed: int,
                     seconds: dict[str, float]) -> dict[float, HistGradientBoostingRegressor]:
    if len(x) > MAX_QUANTILE_ROWS:  # quantiles need fewer rows than the classifier to settle
        pick = np.random.default_rng(seed).choice(len(x), MAX_QUANTILE_ROWS, replace=False)
        x, days = x[pick], days[pick]
    models = {}
    for q in QUANTILES:
        started = time.process_time()
        models[q] = HistGradientBoostingRegressor(
            loss="quantile", quantile=q, max_iter=100, learning_rate=0.08, min_samples_leaf=20,
            early_stopping=False, random_state=seed,
        ).fit(x, days)
        seconds[f"quantile_{q}"] = time.process_time() - started
    return models


def pay_dates(issue_date, quantile_days: np.ndarray) -> tuple:
    return tuple(issue_date + timedelta(days=int(round(d))) for d in quantile_days)
