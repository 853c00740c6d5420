"""Hand-computed full-ranking metrics (RecBole's definitions) and the chunked evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mfnas.tasks.recsys.metrics import RankingEvaluator, metric_names, ranking_metrics


def _bool(rows: list[list[int]], n_items: int) -> torch.Tensor:
    """A boolean (len(rows), n_items) matrix, True at the listed items of each row."""
    dense = torch.zeros(len(rows), n_items, dtype=torch.bool)
    for row, items in enumerate(rows):
        dense[row, items] = True
    return dense


L3 = 1 / math.log2(3)  # discount of rank 2
L4 = 1 / math.log2(4)  # discount of rank 3

SCORES = torch.tensor(
    [
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],  # user 0: 0 masked -> top-3 is 1, 2, 3
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],  # user 1: 5 masked -> top-3 is 4, 3, 2
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],  # user 2: no target -> not averaged
        [0.1, 0.9, 0.8, 0.7, 0.6, 0.5],  # user 3: top-3 is 1, 2, 3
        [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],  # user 4: top-3 is 0, 1, 2
    ]
)
MASKED = _bool([[0], [5], [], [], []], 6)
TARGETS = _bool([[2, 4], [4], [], [0], [0, 2, 3, 5]], 6)
# Per user (k = 3):
#   user 0: hits [0, 1, 0], T=2: ndcg = L3 / (1 + L3), recall 1/2, mrr 1/2, hit 1, prec 1/3
#   user 1: hits [1, 0, 0], T=1: ndcg = 1 / 1 = 1, recall 1, mrr 1, hit 1, prec 1/3
#   user 3: hits [0, 0, 0], T=1: everything 0
#   user 4: hits [1, 0, 1], T=4: ndcg = (1 + L4) / (1 + L3 + L4), recall 2/4, mrr 1, hit 1,
#           prec 2/3
PER_USER = {
    "ndcg@3": [L3 / (1 + L3), 1.0, 0.0, (1 + L4) / (1 + L3 + L4)],
    "recall@3": [1 / 2, 1.0, 0.0, 2 / 4],
    "mrr@3": [1 / 2, 1.0, 0.0, 1.0],
    "hit@3": [1.0, 1.0, 0.0, 1.0],
    "precision@3": [1 / 3, 1 / 3, 0.0, 2 / 3],
}


def test_hand_computed_metrics_average_over_users_with_targets() -> None:
    metrics = ranking_metrics(SCORES, MASKED, TARGETS, k=3)
    assert set(metrics) == set(metric_names(3))
    for name, values in PER_USER.items():
        assert metrics[name] == pytest.approx(sum(values) / 4), name


def test_single_user_cases() -> None:
    one = torch.tensor([[0.4, 0.3, 0.2, 0.1]])
    none = torch.zeros(1, 4, dtype=torch.bool)
    # One target, ranked 2nd: DCG = 1/log2(3), IDCG = 1; MRR = 1/2.
    got = ranking_metrics(one, none, _bool([[1]], 4), k=2)
    assert got == pytest.approx(
        {"ndcg@2": L3, "recall@2": 1.0, "mrr@2": 0.5, "hit@2": 1.0, "precision@2": 0.5}
    )
    # Every item a target: perfect ranking, IDCG capped at k positions.
    got = ranking_metrics(one, none, _bool([[0, 1, 2, 3]], 4), k=2)
    assert got == pytest.approx(
        {"ndcg@2": 1.0, "recall@2": 0.5, "mrr@2": 1.0, "hit@2": 1.0, "precision@2": 1.0}
    )


def test_masked_items_never_count() -> None:
    # The best-scored item is masked *and* a target: it is neither ranked nor a hit.
    scores = torch.tensor([[0.9, 0.1, 0.5]])
    got = ranking_metrics(scores, _bool([[0]], 3), _bool([[0, 1]], 3), k=1)
    assert got["hit@1"] == 0.0  # the top-1 is item 2
    # Fewer unmasked items than k: the padding (masked) items are no hits; precision over k.
    got = ranking_metrics(scores, _bool([[0, 2]], 3), _bool([[0, 1]], 3), k=3)
    assert got["precision@3"] == pytest.approx(1 / 3)
    assert got["mrr@3"] == 1.0


def test_no_user_with_targets_gives_zeros() -> None:
    empty = torch.zeros(2, 3, dtype=torch.bool)
    assert set(ranking_metrics(torch.rand(2, 3), empty, empty, k=2).values()) == {0.0}


@pytest.mark.parametrize("chunk", [1, 2, None])
def test_evaluator_matches_dense_metrics(chunk: int | None) -> None:
    masked = np.array([[0, 0], [1, 5]])
    targets = np.array([[0, 2], [0, 4], [1, 4], [3, 0], [4, 0], [4, 2], [4, 3], [4, 5]])
    evaluator = RankingEvaluator(5, 6, masked, targets, torch.device("cpu"), k=3, chunk=chunk)
    assert evaluator(lambda users: SCORES[users]) == pytest.approx(
        ranking_metrics(SCORES, MASKED, TARGETS, k=3)
    )
