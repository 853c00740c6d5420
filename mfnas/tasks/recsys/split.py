"""Per-user random train/validation/test split of implicit interactions (RecBole's protocol)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATIOS = (0.8, 0.1, 0.1)


@dataclass(frozen=True, eq=False)
class Split:
    """A split of (user, item) interactions with 0-based contiguous ids.

    ``train``, ``val`` and ``test`` are int64 arrays of shape ``(n, 2)`` holding (user, item)
    rows sorted by user then item; per user the three parts are disjoint.
    """

    n_users: int
    n_items: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _holdout_counts(n: np.ndarray, ratio: float) -> np.ndarray:
    """How many of each user's ``n`` interactions go to a held-out part of ``ratio``.

    RecBole's rounding: ``floor(ratio * n)``, raised to 1 when that is 0 but ``ratio * n > 0``,
    as long as the training part keeps at least one interaction (handled by the caller).
    """
    share = ratio * n
    return np.where((share > 0) & (share < 1), 1, np.floor(share)).astype(np.int64)


def split_interactions(
    pairs: np.ndarray, seed: int = 0, ratios: tuple[float, float, float] = RATIOS
) -> Split:
    """Split unique (user, item) ``pairs`` of shape ``(n, 2)`` per user by ``ratios``.

    Each user's interactions are shuffled with ``numpy.random.default_rng(seed)`` and cut into
    train/validation/test; every user keeps at least one training interaction (a user with two
    interactions gives one to test, with three or more one to each held-out part). Raw ids of
    any integer values are re-indexed to ``0..n_users-1`` and ``0..n_items-1`` in sorted order.
    The same set of pairs and ``seed`` always give the same split, whatever the rows' order.
    Raises ValueError on duplicate pairs.
    """
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n, 2), got {pairs.shape}")
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]  # the input's row order is irrelevant
    raw_users, users = np.unique(pairs[:, 0], return_inverse=True)
    raw_items, items = np.unique(pairs[:, 1], return_inverse=True)
    n_users, n_items = len(raw_users), len(raw_items)
    if len(np.unique(users * n_items + items)) != len(pairs):
        raise ValueError("pairs contain duplicate (user, item) interactions")

    total = sum(ratios)
    counts = np.bincount(users, minlength=n_users)
    n_test = np.minimum(_holdout_counts(counts, ratios[2] / total), counts - 1)
    n_val = np.minimum(_holdout_counts(counts, ratios[1] / total), counts - 1 - n_test)
    n_train = counts - n_val - n_test

    # A random permutation then a stable sort by user shuffles each user's interactions.
    perm = np.random.default_rng(seed).permutation(len(pairs))
    order = perm[np.argsort(users[perm], kind="stable")]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.arange(len(order)) - np.repeat(starts, counts)
    cut_train = np.repeat(n_train, counts)
    cut_val = cut_train + np.repeat(n_val, counts)

    shuffled = np.stack([users[order], items[order]], axis=1).astype(np.int64)

    def part(mask: np.ndarray) -> np.ndarray:
        rows = shuffled[mask]
        return rows[np.lexsort((rows[:, 1], rows[:, 0]))]

    return Split(
        n_users=n_users,
        n_items=n_items,
        train=part(position < cut_train),
        val=part((position >= cut_train) & (position < cut_val)),
        test=part(position >= cut_val),
    )
