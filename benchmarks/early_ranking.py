"""How well a recorded table's early epochs rank its final one (the README's offline checks).

Usage: ``python benchmarks/early_ranking.py [benchmarks/recsys]``. Prints the Spearman
correlation of each early epoch's validation score with the final one (over every ok
configuration, and among the 20 best), and the mean final-score regret of picking 1 of 9 random
candidates by their 9-epoch score against picking by a saturating exponential
``a - b * exp(-c * t)`` fitted to epochs 1-9 and extrapolated to the last epoch. Deterministic
(seed 0). Assumes a maximised metric.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import spearmanr

from mfnas.replay.table import read_table

EARLY = 9
DRAWS = 20_000


def _saturating(t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a - b * np.exp(-c * t)


def extrapolate(curve: np.ndarray, epoch: int) -> float:
    """``curve``'s first ``EARLY`` epochs fitted and extrapolated to ``epoch``, clipped to
    [0, 1]; the last seen value where the fit fails."""
    t = np.arange(1, EARLY + 1, dtype=float)
    y = curve[:EARLY]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(_saturating, t, y, p0=(y[-1], y[-1] - y[0], 0.5), maxfev=5000)
    except RuntimeError:
        return float(y[-1])
    value = _saturating(np.array([float(epoch)]), *params)[0]
    return float(np.clip(value, 0.0, 1.0)) if np.isfinite(value) else float(y[-1])


def main(folder: str = "benchmarks/recsys") -> None:
    curves = np.array(
        [r.curve for r in read_table(Path(folder) / "curves.csv.gz")[0] if r.ok], dtype=float
    )
    final = curves[:, -1]
    top = np.argsort(-final)[:20]
    print(f"{len(curves)} ok configurations, {curves.shape[1]} epochs")
    for epoch in (1, 3, EARLY):
        overall = spearmanr(curves[:, epoch - 1], final)[0]
        best = spearmanr(curves[top, epoch - 1], final[top])[0]
        print(f"epoch {epoch} vs final: Spearman {overall:.3f}, among the 20 best {best:.3f}")
    extrapolated = np.array([extrapolate(c, curves.shape[1]) for c in curves])
    rng = np.random.default_rng(0)
    by_last, by_fit = [], []
    for _ in range(DRAWS):
        idx = rng.choice(len(curves), 9, replace=False)
        best_final = final[idx].max()
        by_last.append(best_final - final[idx[np.argmax(curves[idx, EARLY - 1])]])
        by_fit.append(best_final - final[idx[np.argmax(extrapolated[idx])]])
    print(
        f"regret of picking 1 of 9 by the epoch-{EARLY} score {np.mean(by_last):.4f}, "
        f"by the extrapolated curve {np.mean(by_fit):.4f}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
