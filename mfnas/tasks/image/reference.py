"""Reference rows for the image leaderboard (not searched): logistic regression, RBF SVM.

Both are scikit-learn models fitted on the training part of the same split (the scaled pixels
as a flat vector), their regularisation tuned on validation accuracy over a small grid (the
first best in grid order wins ties), and scored with the same metrics as the searched CNNs.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

import numpy as np
import torch

from mfnas.tasks.image.data import ImageSplit
from mfnas.tasks.image.metrics import classification_metrics

LOGISTIC_C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SVM_C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
SVM_GAMMA_GRID = (0.003, 0.01, 0.03, 0.1)  # the scaled pixels have unit variance: 1/64 ~ 0.016


def _features(split: ImageSplit, part: np.ndarray) -> np.ndarray:
    return split.images[part].reshape(len(part), -1)


def _tune(split: ImageSplit, make: Callable[..., Any], grid: list[dict[str, float]]) -> Any:
    """``make(**params)`` fitted on train, for the ``params`` of ``grid`` with the best
    validation accuracy."""
    train, labels = _features(split, split.train), split.labels[split.train]
    val = _features(split, split.val)

    def accuracy(params: dict[str, float]) -> float:
        predicted = make(**params).fit(train, labels).predict(val)
        return float(np.mean(predicted == split.labels[split.val]))

    return make(**max(grid, key=accuracy)).fit(train, labels)


def _scores(
    model: Any, split: ImageSplit, part: np.ndarray, calibrated: Any = None
) -> dict[str, float]:
    """A fitted classifier's metrics on ``part``: predictions from ``model.predict``,
    cross-entropy from ``predict_proba`` of ``calibrated`` (default: ``model``)."""
    features = _features(split, part)
    proba = (model if calibrated is None else calibrated).predict_proba(features)
    return classification_metrics(
        torch.as_tensor(np.log(proba)),
        torch.as_tensor(split.labels[part]),
        torch.as_tensor(model.predict(features)),
    )


def reference_rows(split: ImageSplit) -> dict[str, dict[str, Any]]:
    """``{name: {"val": metrics, "test": metrics, "note": text}}``: logistic regression with
    C tuned on validation; an RBF SVM with C and gamma tuned on validation, whose
    cross-entropy is that of its sigmoid-calibrated probabilities (5-fold, on train)."""
    from sklearn.calibration import CalibratedClassifierCV  # imported on first use
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    logistic = _tune(
        split, lambda C: LogisticRegression(C=C, max_iter=5000), [{"C": c} for c in LOGISTIC_C_GRID]
    )
    svm = _tune(split, SVC, [{"C": c, "gamma": g} for c, g in product(SVM_C_GRID, SVM_GAMMA_GRID)])
    calibrated = CalibratedClassifierCV(SVC(C=svm.C, gamma=svm.gamma), ensemble=False, cv=5)
    calibrated.fit(_features(split, split.train), split.labels[split.train])
    rows = {
        "logistic-regression": (logistic, None, f"C {logistic.C:g}, tuned on validation"),
        "svm-rbf": (svm, calibrated, f"C {svm.C:g}, gamma {svm.gamma:g}, tuned on validation"),
    }
    return {
        name: {
            "val": _scores(model, split, split.val, calibrated),
            "test": _scores(model, split, split.test, calibrated),
            "note": note,
        }
        for name, (model, calibrated, note) in rows.items()
    }
