"""Reference rows for the recsys leaderboard (not searched): most-popular and EASE.

Both are fitted on the training interactions of the same split and scored with the same
full-ranking evaluators as the searched models. EASE's L2 weight is tuned on validation
(Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mfnas.tasks.recsys.split import Split
from mfnas.tasks.recsys.train import Trainer

EASE_L2_GRID = (10.0, 50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0, 2000.0, 5000.0)


def _interaction_matrix(split: Split) -> np.ndarray:
    matrix = np.zeros((split.n_users, split.n_items), dtype=np.float64)
    matrix[split.train[:, 0], split.train[:, 1]] = 1.0
    return matrix


def _ease_weights(matrix: np.ndarray, l2: float) -> np.ndarray:
    """EASE's closed form: B = I - P diagMat(1 / diag(P)) with P = (X^T X + l2 I)^-1."""
    gram = matrix.T @ matrix + l2 * np.eye(matrix.shape[1])
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights


def _scorer(scores: np.ndarray):
    table = torch.as_tensor(scores, dtype=torch.float32)
    return lambda users: table[users.cpu()]


def reference_rows(split: Split) -> dict[str, dict[str, Any]]:
    """``{name: {"val": metrics, "test": metrics, "note": text}}``: most-popular, tuned EASE."""
    trainer = Trainer(split, torch.device("cpu"))
    matrix = _interaction_matrix(split)
    popularity = np.tile(matrix.sum(axis=0), (split.n_users, 1))
    rows: dict[str, dict[str, Any]] = {
        "most-popular": {
            "val": trainer.validation(_scorer(popularity)),
            "test": trainer.testing(_scorer(popularity)),
            "note": "items ranked by training count",
        }
    }
    tuned = []
    for l2 in EASE_L2_GRID:
        scores = matrix @ _ease_weights(matrix, l2)
        tuned.append((trainer.validation(_scorer(scores)), l2, scores))
    val, l2, scores = max(tuned, key=lambda t: t[0]["ndcg@10"])
    test = trainer.testing(_scorer(scores))
    rows["ease"] = {"val": val, "test": test, "note": f"L2 weight {l2:g}, tuned on validation"}
    return rows
