"""Time-ordered evaluation: train on what settled before a cut-off, predict what was issued after.

The baseline is the customer's own prior late rate / mean days to pay (the training
window's overall figures for customers with no history yet), on the same test rows.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sklearn.metrics import accuracy_score, brier_score_loss, mean_absolute_error, roc_auc_score

from rapport_scoring.domain.facts import InvoiceFact
from rapport_scoring.domain.feature_matrix import RowSet, build_matrix, segment_priors_of
from rapport_scoring.domain.model import PaymentModel, train

TEST_SHARE = 0.2


@dataclass(frozen=True)
class Split:
    cutoff: date
    train: RowSet
    test: RowSet


def time_split(rows: RowSet, test_share: float = TEST_SHARE) -> Split:
    """Cut-off at the issue date leaving ``test_share`` of invoices after it."""
    issue_dates = np.sort(rows.issue)
    cutoff = int(issue_dates[int(len(issue_dates) * (1 - test_share))])
    train_rows = rows.take(np.flatnonzero(rows.settled < cutoff))  # open rows are NEVER settled
    test_rows = rows.take(np.flatnonzero((rows.issue >= cutoff) & rows.is_settled))
    return Split(date.fromordinal(cutoff), train_rows, test_rows)


def _scores(late: np.ndarray, days: np.ndarray, p_late: np.ndarray, p_days: np.ndarray) -> dict[str, float]:
    return {
        "auc": float(roc_auc_score(late, p_late)) if len(set(late)) > 1 else float("nan"),
        "accuracy": float(accuracy_score(late, p_late >= 0.5)),
        "brier": float(brier_score_loss(late, p_late)),
        "mae_days": float(mean_absolute_error(days, p_days)),
    }


def baseline_predictions(split: Split) -> tuple[np.ndarray, np.ndarray]:
    fallback_rate, fallback_days = float(split.train.late.mean()), float(split.train.days_to_pay.mean())
    rates = np.where(np.isnan(split.test.own_late_rate), fallback_rate, split.test.own_late_rate)
    means = np.where(np.isnan(split.test.own_mean_days), fallback_days, split.test.own_mean_days)
    return rates, means


def evaluate(model: PaymentModel, split: Split) -> dict:
    """Model and baseline metrics on the test rows, and the model's improvement on each."""
    x, late, days = split.test.x, split.test.late, split.test.days_to_pay
    model_scores = _scores(late, days, model.late_probability(x), model.days_to_pay(x)[:, 1])
    base_rate, base_days = baseline_predictions(split)
    baseline = _scores(late, days, base_rate, base_days)
    return {
        "cutoff": split.cutoff.isoformat(),
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "test_late_share": float(late.mean()),
        "model": model_scores,
        "baseline": baseline,
        "improvement": improvement(model_scores, baseline),
        "interval_coverage_p10_p90": _coverage(model, x, days),
    }


def improvement(model: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """Positive numbers mean the model is better (higher AUC/accuracy, lower Brier/MAE)."""
    return {
        "auc": model["auc"] - baseline["auc"],
        "accuracy": model["accuracy"] - baseline["accuracy"],
        "brier_reduction_pct": 100 * (baseline["brier"] - model["brier"]) / baseline["brier"],
        "mae_reduction_pct": 100 * (baseline["mae_days"] - model["mae_days"]) / baseline["mae_days"],
    }


def _coverage(model: PaymentModel, x: np.ndarray, days: np.ndarray) -> float:
    q = model.days_to_pay(x)
    return float(np.mean((days >= q[:, 0]) & (days <= q[:, 2])))


def run_evaluation(invoices: Sequence[InvoiceFact], *, seed: int = 0) -> tuple[PaymentModel, dict]:
    """Build features as of each issue day, split by time, train, and score both contenders."""
    split = time_split(build_matrix(invoices))
    model = train(split.train, segment_priors_of(split.train), seed=seed)
    return model, evaluate(model, split)
