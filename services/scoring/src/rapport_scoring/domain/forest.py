"""A fitted HistGradientBoosting model flattened into numpy arrays, for scoring a few rows.

scikit-learn's predict is built for large batches: for the handful of invoices one event
rescores it spends milliseconds per model on validation and on starting OpenMP threads.
Walking every tree at once over flat node arrays costs a few numpy operations per tree
level instead. Numerical features only (ours are); the unit test checks it agrees with
scikit-learn's own predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlatForest:
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray  # a leaf points at itself, so walking further leaves it in place
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float
    # For several models walked together: tree -> model one-hot (trees x models) and each model's baseline.
    membership: np.ndarray | None = None
    baselines: np.ndarray | None = None

    @classmethod
    def of(cls, estimator) -> FlatForest:
        """Flatten a fitted single-output HistGradientBoosting{Classifier,Regressor}."""
        trees = [iteration[0].nodes for iteration in estimator._predictors]
        offsets = np.cumsum([0] + [len(t) for t in trees[:-1]])
        nodes = np.concatenate(trees)
        shift = np.repeat(offsets, [len(t) for t in trees])
        own = np.arange(len(nodes))
        leaf = nodes["is_leaf"].astype(bool)
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported by the flat forest")
        return cls(
            feature=nodes["feature_idx"].astype(np.int64), threshold=nodes["num_threshold"].astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(leaf, own, nodes["left"].astype(np.int64) + shift),
            right=np.where(leaf, own, nodes["right"].astype(np.int64) + shift),
            value=np.where(leaf, nodes["value"], 0.0), roots=offsets.astype(np.int64),
            depth=int(nodes["depth"].max()) + 1, baseline=float(np.ravel(estimator._baseline_prediction)[0]),
        )

    @classmethod
    def merged(cls, estimators) -> FlatForest:
        """Several fitted models as one forest: one walk gives every model's raw prediction (``raw_each``)."""
        parts = [cls.of(e) for e in estimators]
        sizes = [len(p.value) for p in parts]
        offsets = np.cumsum([0] + sizes[:-1])
        trees = [len(p.roots) for p in parts]
        membership = np.zeros((sum(trees), len(parts)))
        membership[np.arange(sum(trees)), np.repeat(np.arange(len(parts)), trees)] = 1.0
        return cls(
            feature=np.concatenate([p.feature for p in parts]), threshold=np.concatenate([p.threshold for p in parts]),
            missing_left=np.concatenate([p.missing_left for p in parts]),
            left=np.concatenate([p.left + o for p, o in zip(parts, offsets)]),
            right=np.concatenate([p.right + o for p, o in zip(parts, offsets)]),
            value=np.concatenate([p.value for p in parts]), roots=np.concatenate([p.roots + o for p, o in zip(parts, offsets)]),
            depth=max(p.depth for p in parts), baseline=0.0, membership=membership,
            baselines=np.asarray([p.baseline for p in parts]),
        )

    def _leaves(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return self.value[node]

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the leaf values over all trees, plus the baseline (before any link function)."""
        return self._leaves(x).sum(axis=1) + self.baseline

    def raw_each(self, x: np.ndarray) -> np.ndarray:
        """A merged forest: column j is model j's raw prediction."""
        return self._leaves(x) @ self.membership + self.baselines

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Binary classifier: probability of the positive class (the logistic link)."""
        return 1.0 / (1.0 + np.exp(-self.raw(x)))
