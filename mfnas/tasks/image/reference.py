"""Reference rows for the image leaderboards (not searched): logistic regression, RBF SVM.

Both are scikit-learn models fitted on the training part of the same split (the scaled pixels
as a flat vector), or on a fixed stratified subset of it where a ``ReferenceSetup`` says so
(to bound their cost on larger images), their regularisation tuned on validation accuracy
over a small grid (the first best in grid order wins ties), and scored with the same metrics
as the searched CNNs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np
import torch

from mfnas.tasks.image.data import ImageSplit, stratified_subset
from mfnas.tasks.image.metrics import classification_metrics

LOGISTIC_C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SVM_C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
SVM_GAMMA_GRID = (0.003, 0.01, 0.03, 0.1)  # the scaled pixels have unit variance: 1/64 ~ 0.016


@dataclass(frozen=True)
class ReferenceSetup:
    """The grids the references are tuned over and the number of training images each is
    fitted on (``None``: the whole train part; else a stratified subset, split seed 0)."""

    logistic_c: tuple[float, ...] = LOGISTIC_C_GRID
    svm_c: tuple[float, ...] = SVM_C_GRID
    svm_gamma: tuple[float, ...] = SVM_GAMMA_GRID
    logistic_train: int | None = None
    svm_train: int | None = None


DIGITS = ReferenceSetup()  # the image task's: every grid point, the whole train part


def _fitted_on(split: ImageSplit, n_train: int | None) -> ImageSplit:
    """``split`` with its train part cut to a stratified ``n_train`` (all of it for None)."""
    if n_train is None or n_train >= len(split.train):
        return split
    kept, _ = stratified_subset(split.labels[split.train], n_train)
    return replace(split, train=split.train[kept])


def _subset_note(split: ImageSplit, fitted: ImageSplit) -> str:
    if len(fitted.train) == len(split.train):
        return ""
    return (
        f"; fitted on a stratified {len(fitted.train):,} of the {len(split.train):,} train images"
    )


def _features(split: ImageSplit, part: np.ndarray) -> np.ndarray:
    return split.images[part].reshape(len(part), -1)


def tuned(
    make: Callable[..., Any],
    grid: list[dict[str, float]],
    train: tuple[Any, np.ndarray],
    val: tuple[Any, np.ndarray],
) -> Any:
    """``make(**params)`` fitted on the ``train`` (features, labels), for the ``params`` of
    ``grid`` with the best accuracy on ``val`` (the first best in grid order wins ties)."""

    def accuracy(params: dict[str, float]) -> float:
        predicted = make(**params).fit(*train).predict(val[0])
        return float(np.mean(predicted == val[1]))

    return make(**max(grid, key=accuracy)).fit(*train)


def _tune(split: ImageSplit, make: Callable[..., Any], grid: list[dict[str, float]]) -> Any:
    """``tuned`` on ``split``'s flat train and validation pixels."""
    train = _features(split, split.train), split.labels[split.train]
    return tuned(make, grid, train, (_features(split, split.val), split.labels[split.val]))


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


def reference_rows(split: ImageSplit, setup: ReferenceSetup = DIGITS) -> dict[str, dict[str, Any]]:
    """``{name: {"val": metrics, "test": metrics, "note": text}}``: logistic regression with
    C tuned on validation; an RBF SVM with C and gamma tuned on validation, whose
    cross-entropy is that of its sigmoid-calibrated probabilities (5-fold, on its training
    images). Grids and training subsets as ``setup`` says; the notes say both."""
    from sklearn.calibration import CalibratedClassifierCV  # imported on first use
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    logistic_split = _fitted_on(split, setup.logistic_train)
    logistic = _tune(
        logistic_split,
        lambda C: LogisticRegression(C=C, max_iter=5000),
        [{"C": c} for c in setup.logistic_c],
    )
    svm_split = _fitted_on(split, setup.svm_train)
    grid = [{"C": c, "gamma": g} for c, g in product(setup.svm_c, setup.svm_gamma)]
    svm = _tune(svm_split, SVC, grid)
    calibrated = CalibratedClassifierCV(SVC(C=svm.C, gamma=svm.gamma), ensemble=False, cv=5)
    calibrated.fit(_features(svm_split, svm_split.train), svm_split.labels[svm_split.train])
    rows = {
        "logistic-regression": (
            logistic,
            None,
            f"C {logistic.C:g}, tuned on validation{_subset_note(split, logistic_split)}",
        ),
        "svm-rbf": (
            svm,
            calibrated,
            f"C {svm.C:g}, gamma {svm.gamma:g}, tuned on validation"
            + _subset_note(split, svm_split),
        ),
    }
    return {
        name: {
            "val": _scores(model, split, split.val, calibrated),
            "test": _scores(model, split, split.test, calibrated),
            "note": note,
        }
        for name, (model, calibrated, note) in rows.items()
    }
