"""The evaluation on the real data set, straight from the CSV (the same split and training as
``make eval``, without ingest): the model must beat the customer's own history on every figure."""
from pathlib import Path

import pytest

from rapport_scoring.entrypoints.eval_cli import render, run_offline

DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "invoice_payments_train.csv"


@pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is not on this machine")
def test_offline_evaluation_beats_the_baseline_with_calibrated_intervals():
    report = run_offline(DATA)
    model, baseline = report["model"], report["baseline"]
    assert report["test_rows"] > 1000 and report["train_rows"] > 5000
    assert model["auc"] > baseline["auc"] + 0.02
    assert model["brier"] < baseline["brier"] and model["mae_days"] < baseline["mae_days"]
    assert model["accuracy"] >= baseline["accuracy"]
    assert 0.72 <= report["interval_coverage_p10_p90"] <= 0.88  # nominal 80 %
    assert "AUC" in render(report) and "interval coverage" in render(report)
