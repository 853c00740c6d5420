"""Reference rows for the rating leaderboard (not searched): the global mean and the
regularised user + item bias baseline (Koren 2010's baseline predictor; Surprise's
``BaselineOnly``), both fitted on the training ratings of the same split and scored with the
same evaluators (predictions clipped to the rating scale) as the searched models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mfnas.tasks.rating.metrics import RatingEvaluator
from mfnas.tasks.rating.split import RatingSplit
from mfnas.tasks.rating.train import OBJECTIVE

BIAS_L2_GRID = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 25.0, 50.0)


@dataclass(frozen=True, eq=False)
class Biases:
    """``mean + user[u] + item[i]``: a baseline rating predictor."""

    mean: float
    user: np.ndarray
    item: np.ndarray

    def __call__(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        predicted = self.mean + self.user[users.cpu().numpy()] + self.item[items.cpu().numpy()]
        return torch.as_tensor(predicted, dtype=torch.float32, device=users.device)


def fit_biases(train: np.ndarray, n_users: int, n_items: int, l2: float) -> Biases:
    """The exact minimiser of ``sum (r - mean - b_u - b_i)^2 + l2 (sum b_u^2 + sum b_i^2)`` over
    the (user, item, rating) ``train`` rows, ``mean`` being their mean rating (not penalised).

    Solves the normal equations, eliminating the item biases (a diagonal block) so that one
    dense ``n_users x n_users`` system remains. Raises ValueError unless ``l2 > 0``.
    """
    if not l2 > 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    users, items = train[:, 0], train[:, 1]
    mean = float(train[:, 2].mean())
    residual = train[:, 2] - mean
    counts = np.zeros((n_users, n_items))
    np.add.at(counts, (users, items), 1.0)
    user_sums = np.bincount(users, residual, minlength=n_users)
    item_sums = np.bincount(items, residual, minlength=n_items)
    item_inverse = 1.0 / (counts.sum(axis=0) + l2)
    system = np.diag(counts.sum(axis=1) + l2) - (counts * item_inverse) @ counts.T
    user = np.linalg.solve(system, user_sums - counts @ (item_inverse * item_sums))
    item = item_inverse * (item_sums - counts.T @ user)
    return Biases(mean, user, item)


def reference_rows(split: RatingSplit) -> dict[str, dict[str, Any]]:
    """``{name: {"val": metrics, "test": metrics, "note": text}}``: the global mean and the
    bias baseline with its L2 weight tuned on validation over ``BIAS_L2_GRID``."""
    cpu = torch.device("cpu")
    validation, testing = RatingEvaluator(split.val, cpu), RatingEvaluator(split.test, cpu)
    n_users, n_items = split.n_users, split.n_items
    mean = Biases(float(split.train[:, 2].mean()), np.zeros(n_users), np.zeros(n_items))
    rows: dict[str, dict[str, Any]] = {
        "global-mean": {
            "val": validation(mean),
            "test": testing(mean),
            "note": f"the mean training rating ({mean.mean:.4f}) for every pair",
        }
    }
    tuned = []
    for l2 in BIAS_L2_GRID:
        biases = fit_biases(split.train, n_users, n_items, l2)
        tuned.append((validation(biases), l2, biases))
    val, l2, biases = min(tuned, key=lambda t: t[0][OBJECTIVE])
    rows["biases"] = {
        "val": val,
        "test": testing(biases),
        "note": f"mean + user and item biases, exact least squares, L2 weight {l2:g} "
        "tuned on validation",
    }
    return rows
