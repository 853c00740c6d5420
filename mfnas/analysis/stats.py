"""Multi-seed statistics from stored outcomes: bootstrap CIs, ranks, the Friedman test with
Nemenyi's critical difference, anytime curves and speedup.

Pure functions over plain numbers so each can be checked on hand-made inputs; the statistics
themselves come from SciPy (``bootstrap``, ``rankdata``, ``friedmanchisquare``,
``studentized_range``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mfnas.direction import Direction

BOOTSTRAP_RESAMPLES = 10_000
BAND_RESAMPLES = 1000
ALPHA = 0.05


def _percentile_bootstrap(
    data: np.ndarray, level: float, resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's percentile bootstrap CI of the mean over axis 0 of ``data`` (two or more rows),
    resampled in one batch from ``numpy.random.default_rng(seed)``."""
    result = stats.bootstrap(
        (data,), np.mean, n_resamples=resamples, method="percentile", confidence_level=level,
        axis=0, vectorized=True, rng=np.random.default_rng(seed),
    )  # fmt: skip
    return result.confidence_interval.low, result.confidence_interval.high


def bootstrap_ci(
    values: Sequence[float], level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (``BOOTSTRAP_RESAMPLES`` resamples, seeded);
    ``(nan, nan)`` without values, the value itself for one."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return math.nan, math.nan
    if data.size == 1:
        return float(data[0]), float(data[0])
    low, high = _percentile_bootstrap(data, level, BOOTSTRAP_RESAMPLES, seed)
    return float(low), float(high)


def bootstrap_band(
    curves: np.ndarray, level: float = 0.95, resamples: int = BAND_RESAMPLES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile-bootstrap CI of the mean of ``curves`` (seeds x grid points); the
    curve itself for one seed."""
    data = np.asarray(curves, dtype=float)
    if len(data) < 2:
        return data[0].copy(), data[0].copy()
    return _percentile_bootstrap(data, level, resamples, seed)


def rank_blocks(
    per_block: Sequence[Mapping[str, float]], names: Sequence[str], direction: Direction
) -> np.ndarray:
    """Ranks (blocks x ``names``) of each block's scores in ``direction``: rank 1 is best,
    tied scores share the average of their ranks, and a NaN (missing) score, or a name absent
    from the block, ranks last."""
    scores = np.array([[block.get(n, math.nan) for n in names] for block in per_block], float)
    if scores.size == 0:
        return np.empty((len(per_block), len(names)))
    keys = np.where(np.isnan(scores), math.inf, -direction.sign * scores)
    return stats.rankdata(keys, axis=1)


def critical_difference(n_strategies: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of mean ranks (Demšar 2006): two strategies whose mean
    ranks over ``n_blocks`` blocks differ by more differ at level ``alpha``. ``q_alpha`` is the
    studentized range quantile for ``n_strategies`` (any number) and infinite degrees of
    freedom, over sqrt(2). NaN for fewer than 2 strategies or no block."""
    if n_strategies < 2 or n_blocks < 1:
        return math.nan
    q = stats.studentized_range.ppf(1.0 - alpha, n_strategies, math.inf) / math.sqrt(2.0)
    return float(q * math.sqrt(n_strategies * (n_strategies + 1) / (6.0 * n_blocks)))


@dataclass(frozen=True)
class Friedman:
    """The Friedman test that all strategies rank alike, over ``n_blocks`` blocks (seeds), and
    Nemenyi's critical difference at ``alpha`` for the post-hoc comparison of mean ranks.
    ``statistic`` is the tie-corrected chi-square; it and ``p_value`` are NaN when every block
    ties every strategy."""

    statistic: float
    p_value: float
    n_blocks: int
    n_strategies: int
    alpha: float
    critical_difference: float


def friedman(ranks: np.ndarray, alpha: float = ALPHA) -> Friedman | None:
    """The Friedman test on a (blocks x strategies) rank matrix (``rank_blocks``); None when it
    is not defined: fewer than 3 strategies or 2 blocks."""
    n_blocks, k = ranks.shape
    if k < 3 or n_blocks < 2:
        return None
    if np.all(ranks == ranks[:, :1]):
        statistic, p_value = math.nan, math.nan
    else:
        result = stats.friedmanchisquare(*ranks.T)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return Friedman(statistic, p_value, n_blocks, k, alpha, critical_difference(k, n_blocks, alpha))


def best_so_far(
    events: Sequence[tuple[float, float]], grid: np.ndarray, direction: Direction
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
            if math.isnan(best) or direction.better(value, best):
                best = value
            k += 1
        out[g] = best
    return out


def first_reaching(
    curve: np.ndarray, grid: np.ndarray, target: float, direction: Direction
) -> float:
    """The first grid point where ``curve`` reaches ``target`` (as good or better); NaN when it
    never does."""
    reached = direction.sign * curve >= direction.sign * target
    reached &= ~np.isnan(curve)
    return float(grid[np.argmax(reached)]) if reached.any() else math.nan


def speedup(
    reference: np.ndarray, other: np.ndarray, grid: np.ndarray, direction: Direction
) -> float:
    """Budget the reference needs to reach its own final score / budget ``other`` needs for it.

    Both are mean anytime curves on ``grid``. ``inf`` when ``other`` has reached the score at the
    grid's first point 0, NaN when it never reaches it (or the reference has no final score).
    """
    target = reference[-1]
    if math.isnan(target):
        return math.nan
    ref_needs = first_reaching(reference, grid, target, direction)
    other_needs = first_reaching(other, grid, target, direction)
    if math.isnan(other_needs):
        return math.nan
    return math.inf if other_needs == 0 else ref_needs / other_needs


def paired_comparison(
    per_block: Sequence[Mapping[str, float]], a: str, b: str, maximize: bool
) -> dict[str, float]:
    """``a`` against ``b`` over the blocks (seeds) where both have a score: the mean difference
    (positive: ``a`` better, in the task's direction), wins, losses and ties of ``a``, and the
    two-sided Wilcoxon signed-rank p-value (ties dropped; 1.0 when every block ties).
    ``maximize`` is the store's flag (``meta["maximize"]``)."""
    sign = Direction.of(maximize).sign
    diffs = np.array(
        [sign * (blk[a] - blk[b]) for blk in per_block if not math.isnan(blk[a] - blk[b])]
    )
    if diffs.size == 0:
        raise ValueError(f"no block has scores for both {a!r} and {b!r}")
    p = float(stats.wilcoxon(diffs).pvalue) if np.any(diffs != 0) else 1.0
    return {
        "mean_difference": float(diffs.mean()),
        "wins": int((diffs > 0).sum()),
        "losses": int((diffs < 0).sum()),
        "ties": int((diffs == 0).sum()),
        "p_value": p,
    }
