"""The per-user 80/10/10 split: determinism, disjointness, ratios, RecBole's rounding."""

from __future__ import annotations

import numpy as np
import pytest

from mfnas.tasks.recsys.split import Split, split_interactions


def _synthetic(n_users: int = 60, n_items: int = 400, seed: int = 0) -> np.ndarray:
    """Unique (user, item) pairs with raw, non-contiguous ids; 20-80 items per user."""
    rng = np.random.default_rng(seed)
    rows = [
        (1000 + 7 * user, 3 * item)
        for user in range(n_users)
        for item in rng.choice(n_items, size=rng.integers(20, 81), replace=False)
    ]
    return np.array(rows, dtype=np.int64)


def _sets(split: Split, part: np.ndarray) -> list[set[int]]:
    """Each user's items in a part of the split."""
    items: list[set[int]] = [set() for _ in range(split.n_users)]
    for user, item in part:
        items[user].add(int(item))
    return items


def test_same_seed_same_split_and_other_seed_differs() -> None:
    pairs = _synthetic()
    first, again, other = (split_interactions(pairs, seed=s) for s in (0, 0, 1))
    for name in ("train", "val", "test"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.val, other.val)
    shuffled = split_interactions(np.random.default_rng(5).permutation(pairs), seed=0)
    assert np.array_equal(shuffled.test, first.test)  # row order does not matter


def test_parts_are_disjoint_cover_everything_and_are_reindexed() -> None:
    pairs = _synthetic()
    split = split_interactions(pairs)
    assert (split.n_users, split.n_items) == (60, len(np.unique(pairs[:, 1])))
    train, val, test = (_sets(split, p) for p in (split.train, split.val, split.test))
    for user in range(split.n_users):
        assert train[user], "every user keeps training items"
        assert not (train[user] & val[user] or train[user] & test[user] or val[user] & test[user])
    everything = np.concatenate([split.train, split.val, split.test])
    assert len(everything) == len(pairs)
    assert len(np.unique(everything, axis=0)) == len(pairs)
    assert everything.dtype == np.int64
    assert set(np.unique(everything[:, 0])) == set(range(split.n_users))
    assert set(np.unique(everything[:, 1])) == set(range(split.n_items))


def test_ratios_are_about_80_10_10() -> None:
    split = split_interactions(_synthetic())
    total = len(split.train) + len(split.val) + len(split.test)
    assert len(split.val) / total == pytest.approx(0.1, abs=0.01)
    assert len(split.test) / total == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, (1, 0, 0)),
        (2, (1, 0, 1)),
        (3, (1, 1, 1)),
        (9, (7, 1, 1)),
        (10, (8, 1, 1)),
        (25, (21, 2, 2)),
    ],
)
def test_recbole_rounding_per_user(count: int, expected: tuple[int, int, int]) -> None:
    split = split_interactions(np.array([(5, item) for item in range(count)]))
    assert (len(split.train), len(split.val), len(split.test)) == expected


def test_duplicates_and_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        split_interactions(np.array([[1, 2], [1, 2], [1, 3]]))
    with pytest.raises(ValueError, match="shape"):
        split_interactions(np.zeros((4, 3), dtype=np.int64))
