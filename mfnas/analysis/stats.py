"""Multi-seed statistics from stored outcomes: bootstrap CIs, ranks, anytime curves, speedup.

Pure functions over plain numbers so each can be checked on hand-made inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 10_000


def bootstrap_ci(
    values: Sequence[float], level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean; ``(nan, nan)`` without values, the value for one."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return math.nan, math.nan
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, (BOOTSTRAP_RESAMPLES, data.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def average_ranks(scores: Mapping[str, float], maximize: bool) -> dict[str, float]:
    """Rank 1 is best; tied scores share the average of their ranks; NaN (missing) ranks last."""
    sign = -1.0 if maximize else 1.0
    keyed = sorted(scores, key=lambda s: math.inf if math.isnan(scores[s]) else sign * scores[s])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(keyed):
        j = i
        key_i = scores[keyed[i]]
        while j + 1 < len(keyed) and _same(scores[keyed[j + 1]], key_i):
            j += 1
        for name in keyed[i : j + 1]:
            ranks[name] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def mean_ranks(per_block: Sequence[Mapping[str, float]], maximize: bool) -> dict[str, float]:
    """Mean over blocks (seeds, or task x seed) of each strategy's average rank in the block."""
    totals: dict[str, list[float]] = {}
    for block in per_block:
        for name, rank in average_ranks(block, maximize).items():
            totals.setdefault(name, []).append(rank)
    return {name: float(np.mean(r)) for name, r in totals.items()}


def best_so_far(
    events: Sequence[tuple[float, float]], grid: np.ndarray, maximize: bool
) -> np.ndarray:
    """The best value seen by each grid point, from (epochs spent when it finished, value) events.

    Grid points before the first event hold NaN.
    """
    out = np.full(len(grid), np.nan)
    best = math.nan
    ordered = sorted(events)
    k = 0
    for g, point in enumerate(grid):
        while k < len(ordered) and ordered[k][0] <= point:
            value = ordered[k][1]
            if math.isnan(best) or (value > best if maximize else value < best):
                best = value
            k += 1
        out[g] = best
    return out


def first_reaching(curve: np.ndarray, grid: np.ndarray, target: float, maximize: bool) -> float:
    """The first grid point where ``curve`` reaches ``target``; NaN when it never does."""
    reached = curve >= target if maximize else curve <= target
    reached &= ~np.isnan(curve)
    return float(grid[np.argmax(reached)]) if reached.any() else math.nan


def speedup(reference: np.ndarray, other: np.ndarray, grid: np.ndarray, maximize: bool) -> float:
    """Budget the reference needs to reach its own final score / budget ``other`` needs for it.

    Both are mean anytime curves on ``grid``. ``inf`` when ``other`` has reached the score at the
    grid's first point 0, NaN when it never reaches it (or the reference has no final score).
    """
    target = reference[-1]
    if math.isnan(target):
        return math.nan
    ref_needs = first_reaching(reference, grid, target, maximize)
    other_needs = first_reaching(other, grid, target, maximize)
    if math.isnan(other_needs):
        return math.nan
    return math.inf if other_needs == 0 else ref_needs / other_needs


def bootstrap_band(
    curves: np.ndarray, level: float = 0.95, resamples: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile-bootstrap CI of the mean of ``curves`` (seeds x grid points)."""
    data = np.asarray(curves, dtype=float)
    if len(data) < 2:
        return data[0].copy(), data[0].copy()
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), (resamples, len(data)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=0)
    return low, high


def paired_comparison(
    per_block: Sequence[Mapping[str, float]], a: str, b: str, maximize: bool
) -> dict[str, float]:
    """``a`` against ``b`` over the blocks (seeds) where both have a score: the mean difference
    (positive: ``a`` better, in the task's direction), wins, losses and ties of ``a``, and the
    two-sided Wilcoxon signed-rank p-value (ties dropped; 1.0 when every block ties)."""
    from scipy.stats import wilcoxon

    sign = 1.0 if maximize else -1.0
    diffs = np.array(
        [sign * (blk[a] - blk[b]) for blk in per_block if not math.isnan(blk[a] - blk[b])]
    )
    if diffs.size == 0:
        raise ValueError(f"no block has scores for both {a!r} and {b!r}")
    p = float(wilcoxon(diffs).pvalue) if np.any(diffs != 0) else 1.0
    return {
        "mean_difference": float(diffs.mean()),
        "wins": int((diffs > 0).sum()),
        "losses": int((diffs < 0).sum()),
        "ties": int((diffs == 0).sum()),
        "p_value": p,
    }
