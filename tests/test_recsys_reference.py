"""Reference rows: EASE's closed form and its tuning, most-popular, on small synthetic data."""

from __future__ import annotations

import numpy as np

from mfnas.tasks.recsys import split_interactions
from mfnas.tasks.recsys.reference import _ease_weights, reference_rows


def test_ease_weights_solve_the_constrained_ridge_problem() -> None:
    rng = np.random.default_rng(0)
    matrix = (rng.random((30, 8)) < 0.4).astype(float)
    l2 = 2.0
    weights = _ease_weights(matrix, l2)
    assert np.allclose(np.diag(weights), 0.0)
    # Each column j solves min ||X_j - X_{-j} w||^2 + l2 ||w||^2 over the other items only.
    for j in range(8):
        others = [i for i in range(8) if i != j]
        sub = matrix[:, others]
        ridge = np.linalg.solve(sub.T @ sub + l2 * np.eye(7), sub.T @ matrix[:, j])
        assert np.allclose(weights[others, j], ridge)


def test_reference_rows_on_two_taste_groups() -> None:
    """Users like items from their own half of the catalogue; EASE learns it, popularity can't."""
    rng = np.random.default_rng(1)
    pairs = [
        (user, item)
        for user in range(60)
        for item in rng.choice(np.arange(20) + 20 * (user % 2), size=12, replace=False)
    ]
    rows = reference_rows(split_interactions(np.array(pairs)))
    assert set(rows) == {"most-popular", "ease"}
    for row in rows.values():
        for part in ("val", "test"):
            assert set(row[part]) >= {"ndcg@10", "recall@10", "mrr@10", "hit@10", "precision@10"}
            assert all(0.0 <= v <= 1.0 for v in row[part].values())
    assert rows["ease"]["val"]["ndcg@10"] > rows["most-popular"]["val"]["ndcg@10"] + 0.1
    assert "tuned on validation" in rows["ease"]["note"]
