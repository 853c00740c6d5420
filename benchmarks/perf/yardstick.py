"""Plain reference implementations that ``test_recsys_speed.py`` measures mfnas against.

Written the way a BPR-MF training and a top-K evaluation are commonly written from scratch in
PyTorch, with nothing from mfnas's training or ranking code, so that "how much faster is the
project's code" has a fixed, readable answer:

- ``BPRYardstick`` + ``yardstick_epoch``: ``nn.Embedding`` user and item tables, plain Adam,
  a fresh shuffle per epoch, mini-batches cut from it, and inside the Python loop over batches
  one uniformly drawn negative per row; loss ``-logsigmoid(pos - neg).mean()``.
- ``PerUserEvaluator``: a Python loop over users, masking each user's training items with
  ``-inf``, ``topk`` on that user's row and the metrics computed in Python per user.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BPRYardstick(nn.Module):
    """Matrix factorisation scored by the dot product of ``nn.Embedding`` rows."""

    def __init__(self, n_users: int, n_items: int, dim: int, init_std: float) -> None:
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user_emb.weight, std=init_std)
        nn.init.normal_(self.item_emb.weight, std=init_std)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of the ``(users[b], items[b])`` pairs, shape ``(B,)``."""
        return (self.user_emb(users) * self.item_emb(items)).sum(dim=1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for ``users``: shape ``(len(users), n_items)``."""
        return self.user_emb(users) @ self.item_emb.weight.T


def make_yardstick(
    n_users: int,
    n_items: int,
    dim: int,
    init_std: float,
    learning_rate: float,
    weight_decay: float,
    seed: int,
) -> tuple[BPRYardstick, torch.optim.Optimizer, torch.Generator]:
    """A seeded model, its (non-fused) Adam, and the generator its epochs shuffle and sample with.

    The global RNG is used only for the initialisation and is restored afterwards.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = BPRYardstick(n_users, n_items, dim, init_std)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    return model, optimizer, torch.Generator().manual_seed(seed)


def yardstick_epoch(
    model: BPRYardstick,
    optimizer: torch.optim.Optimizer,
    users: torch.Tensor,
    items: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One BPR epoch over the ``(users[n], items[n])`` positives; the mean batch loss."""
    model.train()
    n_items = model.item_emb.num_embeddings
    perm = torch.randperm(len(users), generator=generator)
    total, batches = 0.0, 0
    for start in range(0, len(perm), batch_size):
        idx = perm[start : start + batch_size]
        u, pos = users[idx], items[idx]
        neg = torch.randint(0, n_items, (len(idx),), generator=generator)
        loss = -F.logsigmoid(model(u, pos) - model(u, neg)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


class PerUserEvaluator:
    """Top-``k`` metrics (NDCG, recall, MRR, hit, precision) by a Python loop over users.

    ``masked`` and ``targets`` are ``(n, 2)`` arrays of (user, item) rows; users without a
    target are skipped, and the averages are over users with one (RecBole's definitions).
    """

    def __init__(self, masked: np.ndarray, targets: np.ndarray, k: int = 10) -> None:
        self.k = k
        self.masked: dict[int, list[int]] = defaultdict(list)
        self.targets: dict[int, set[int]] = defaultdict(set)
        for user, item in masked.tolist():
            self.masked[user].append(item)
        for user, item in targets.tolist():
            self.targets[user].add(item)

    def __call__(self, scores: torch.Tensor) -> dict[str, float]:
        """The averaged metrics of the ``(n_users, n_items)`` score matrix, keyed ``ndcg@10``."""
        k = self.k
        sums = dict.fromkeys(("ndcg", "recall", "mrr", "hit", "precision"), 0.0)
        for user, relevant in self.targets.items():
            row = scores[user].clone()
            row[self.masked[user]] = float("-inf")
            top = row.topk(k).indices.tolist()
            hits = [item in relevant for item in top]
            dcg = sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
            idcg = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
            n_hits = sum(hits)
            sums["ndcg"] += dcg / idcg
            sums["recall"] += n_hits / len(relevant)
            sums["mrr"] += 1.0 / (hits.index(True) + 1) if n_hits else 0.0
            sums["hit"] += float(n_hits > 0)
            sums["precision"] += n_hits / k
        n = max(len(self.targets), 1)
        return {f"{name}@{k}": total / n for name, total in sums.items()}
