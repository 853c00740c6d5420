"""Full-ranking top-K metrics (RecBole's definitions), vectorised over users.

For each user the items in ``masked`` are removed from the ranking and ``targets`` are the
held-out relevant items. Per user, with ``hits[p]`` = 1 when the item at rank ``p`` (1-based) of
the top-K is a target and ``T`` the number of targets:

- ``recall@K`` = sum(hits) / T, ``precision@K`` = sum(hits) / K, ``hit@K`` = 1 if any hit;
- ``mrr@K`` = 1 / (rank of the first hit), 0 without a hit;
- ``ndcg@K`` = DCG / IDCG with DCG = sum_p hits[p] / log2(p + 1) and
  IDCG = sum_{p=1}^{min(T, K)} 1 / log2(p + 1).

Metrics are averaged over users with at least one target; other users are ignored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

NAMES = ("ndcg", "recall", "mrr", "hit", "precision")


def metric_names(k: int = 10) -> tuple[str, ...]:
    """The reported metric keys, e.g. ``ndcg@10``."""
    return tuple(f"{name}@{k}" for name in NAMES)


def ranking_sums(
    scores: torch.Tensor, masked: torch.Tensor, targets: torch.Tensor, k: int = 10
) -> tuple[dict[str, float], int]:
    """Per-metric sums over the users (rows) that have a target, and how many such users.

    ``scores`` is a float ``(users, items)`` matrix; ``masked`` and ``targets`` are boolean
    matrices of the same shape. A masked item is never ranked nor counted as a hit; with fewer
    than ``k`` items the top list is shorter but precision still divides by ``k``.
    """
    ranked = scores.masked_fill(masked, float("-inf")).topk(min(k, scores.shape[1]), dim=1).indices
    hits = targets.gather(1, ranked) & ~masked.gather(1, ranked)
    n_targets = targets.sum(dim=1)
    keep = n_targets > 0
    return _hit_sums(hits[keep], n_targets[keep], k), int(keep.sum())


def _hit_sums(hits: torch.Tensor, n_targets: torch.Tensor, k: int) -> dict[str, float]:
    """Per-metric sums from the boolean ``(users, <= k)`` hits of each user's top list and the
    users' (positive) numbers of targets."""
    hits, n_targets = hits.double(), n_targets.double()
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64, device=hits.device))
    ideal = torch.cumsum(discount, 0)[(n_targets.clamp(max=k) - 1).long()]
    n_hits = hits.sum(dim=1)
    first = hits.argmax(dim=1)  # rank - 1 of the first hit (0 when there is none)
    per_user = {
        "ndcg": (hits @ discount[: hits.shape[1]]) / ideal,
        "recall": n_hits / n_targets,
        "mrr": torch.where(n_hits > 0, 1.0 / (first + 1).double(), 0.0),
        "hit": (n_hits > 0).double(),
        "precision": n_hits / k,
    }
    return {name: float(value.sum()) for name, value in per_user.items()}


def ranking_metrics(
    scores: torch.Tensor, masked: torch.Tensor, targets: torch.Tensor, k: int = 10
) -> dict[str, float]:
    """The metrics averaged over users with a target, keyed ``ndcg@K`` etc (see module doc)."""
    sums, n_users = ranking_sums(scores, masked, targets, k)
    return _averages(sums, n_users, k)


def _averages(sums: dict[str, float], n_users: int, k: int) -> dict[str, float]:
    """Per-metric sums divided by the number of users (0 for every metric when there is none)."""
    keys = metric_names(k)
    return {key: sums[name] / max(n_users, 1) for name, key in zip(NAMES, keys, strict=True)}


class RankingEvaluator:
    """Full-ranking evaluation of a scoring function against fixed mask and target pairs.

    ``masked`` and ``targets`` are ``(n, 2)`` int arrays of (user, item) rows. Only users with a
    target are scored, ``chunk`` users at a time (default: about 4M scores per chunk), so memory
    stays bounded. Each chunk keeps the sorted positions ``row * n_items + item`` of its masked
    and target pairs: masking writes ``-inf`` at those positions of the score matrix and hits
    are looked up by binary search, so no dense boolean matrix is built per call.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        masked: np.ndarray,
        targets: np.ndarray,
        device: torch.device,
        k: int = 10,
        chunk: int | None = None,
    ) -> None:
        self.n_items, self.k = n_items, k
        users = np.unique(targets[:, 0])
        self.n_scored = len(users)
        chunk = chunk or max(1, (1 << 22) // n_items)
        row_of = np.full(n_users, -1, dtype=np.int64)
        self._chunks = []
        for start in range(0, len(users), chunk):
            chunk_users = users[start : start + chunk]
            row_of[:] = -1
            row_of[chunk_users] = np.arange(len(chunk_users))
            chunk_targets = np.unique(self._flat(targets, row_of))
            arrays = (
                chunk_users,
                np.unique(self._flat(masked, row_of)),
                chunk_targets,
                np.bincount(chunk_targets // n_items, minlength=len(chunk_users)),  # per row
            )
            self._chunks.append(
                tuple(torch.as_tensor(a, dtype=torch.long, device=device) for a in arrays)
            )

    def _flat(self, pairs: np.ndarray, row_of: np.ndarray) -> np.ndarray:
        """Positions ``row * n_items + item`` in a chunk's score matrix of the chunk's ``pairs``."""
        rows = row_of[pairs[:, 0]]
        keep = rows >= 0
        return rows[keep] * self.n_items + pairs[keep, 1]

    def __call__(self, score_all: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """Metrics of ``score_all(users) -> (len(users), n_items)`` scores, averaged over users.

        The score matrix ``score_all`` returns is overwritten at the masked positions.
        """
        totals = dict.fromkeys(NAMES, 0.0)
        for users, masked, targets, n_targets in self._chunks:
            scores = score_all(users).contiguous()
            scores.view(-1).index_fill_(0, masked, float("-inf"))
            ranked = scores.topk(min(self.k, self.n_items), dim=1).indices
            ranked += torch.arange(len(users), device=ranked.device)[:, None] * self.n_items
            hits = _contains(targets, ranked) & ~_contains(masked, ranked)
            sums = _hit_sums(hits, n_targets, self.k)
            for name in NAMES:
                totals[name] += sums[name]
        return _averages(totals, self.n_scored, self.k)


def _contains(sorted_values: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Whether each of ``queries`` is in the sorted 1-d ``sorted_values`` (same shape as
    ``queries``)."""
    if len(sorted_values) == 0:
        return torch.zeros_like(queries, dtype=torch.bool)
    at = torch.searchsorted(sorted_values, queries).clamp_(max=len(sorted_values) - 1)
    return sorted_values[at] == queries
