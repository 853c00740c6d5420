"""Per-rating random splits of explicit ratings: train/validation/test, and K folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATIOS = (0.8, 0.1, 0.1)


@dataclass(frozen=True, eq=False)
class RatingSplit:
    """Explicit ratings split into parts, with 0-based contiguous ids.

    ``train``, ``val`` and ``test`` are int64 arrays of shape ``(n, 3)`` holding
    (user, item, rating) rows sorted by user then item; the parts are disjoint sets of ratings.
    ``n_users`` and ``n_items`` count the ids of all the ratings split, so a user or item may
    have no training rating.
    """

    n_users: int
    n_items: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _shuffled(ratings: np.ndarray, seed: int) -> tuple[np.ndarray, int, int]:
    """(user, item, rating) rows re-indexed to 0-based ids in sorted order, then shuffled by
    ``numpy.random.default_rng(seed)``; the input's row order is irrelevant. Also returns the
    number of users and items. ``ratings`` has shape ``(n, k >= 3)``; columns past the third
    (timestamps) are dropped."""
    ratings = np.asarray(ratings)
    if ratings.ndim != 2 or ratings.shape[1] < 3:
        raise ValueError(f"ratings must have shape (n, 3+), got {ratings.shape}")
    ratings = ratings[np.lexsort((ratings[:, 1], ratings[:, 0]))]
    raw_users, users = np.unique(ratings[:, 0], return_inverse=True)
    raw_items, items = np.unique(ratings[:, 1], return_inverse=True)
    rows = np.stack([users, items, ratings[:, 2]], axis=1).astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(rows))
    return rows[perm], len(raw_users), len(raw_items)


def _sorted(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def split_ratings(
    ratings: np.ndarray, seed: int = 0, ratios: tuple[float, float, float] = RATIOS
) -> RatingSplit:
    """Split ``ratings`` (rows of user, item, rating, ...) at random, per rating, by ``ratios``.

    Validation and test get ``round(ratio * n)`` ratings each, training the rest. The same set
    of rows and ``seed`` always give the same split, whatever the rows' order.
    """
    rows, n_users, n_items = _shuffled(ratings, seed)
    total = sum(ratios)
    n_val = round(ratios[1] / total * len(rows))
    n_test = round(ratios[2] / total * len(rows))
    n_train = len(rows) - n_val - n_test
    return RatingSplit(
        n_users=n_users,
        n_items=n_items,
        train=_sorted(rows[:n_train]),
        val=_sorted(rows[n_train : n_train + n_val]),
        test=_sorted(rows[n_train + n_val :]),
    )


def rating_folds(ratings: np.ndarray, folds: int, seed: int = 0) -> list[RatingSplit]:
    """``folds`` random folds of ``ratings`` for cross-validation (like scikit-learn's KFold
    with shuffling): split ``k`` tests on fold ``k`` and trains on the others; its ``val`` is
    empty. Fold sizes differ by at most one. Raises ValueError for fewer than 2 folds or more
    folds than ratings."""
    rows, n_users, n_items = _shuffled(ratings, seed)
    if not 2 <= folds <= len(rows):
        raise ValueError(f"folds must be in 2..{len(rows)}, got {folds}")
    parts = np.array_split(rows, folds)
    empty = np.zeros((0, 3), dtype=np.int64)
    return [
        RatingSplit(
            n_users=n_users,
            n_items=n_items,
            train=_sorted(np.concatenate(parts[:k] + parts[k + 1 :])),
            val=empty,
            test=_sorted(part),
        )
        for k, part in enumerate(parts)
    ]
