"""PNG plots of a run, read from the store: anytime curves, test scores, ranks, importance.

Every plot gives each strategy the same colour (``strategy_colour``), labels its axes, and
is written with matplotlib's non-interactive Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mfnas.analysis.leaderboard import anytime_curves, seed_blocks, seed_outcomes
from mfnas.analysis.stats import average_ranks, bootstrap_band
from mfnas.store import Store

#: Nemenyi test critical values q_0.05 for k = 2..10 strategies (Demšar 2006, Table 5).
NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102,
               10: 3.164}  # fmt: skip
_PALETTE = plt.get_cmap("tab20").colors
_ORDER = ("random", "grid", "one-epoch", "evolution", "smac-bo", "hyperband", "smac-hb",
          "hierarchical", "optuna-tpe", "optuna-hb", "surrogate-hb", "surrogate-hb-nopred",
          "surrogate-hb-warm")  # fmt: skip


def strategy_colour(name: str) -> tuple[float, float, float]:
    """A fixed colour per strategy name, the same in every plot and every run."""
    index = _ORDER.index(name) if name in _ORDER else sum(map(ord, name))
    return _PALETTE[(2 * index) % 20 if index < 10 else (2 * index + 1) % 20]


def critical_difference(n_strategies: int, n_blocks: int) -> float:
    """Nemenyi critical difference of mean ranks at alpha 0.05 (NaN outside the table)."""
    q = NEMENYI_Q05.get(n_strategies)
    if q is None or n_blocks < 1:
        return math.nan
    return q * math.sqrt(n_strategies * (n_strategies + 1) / (6.0 * n_blocks))


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_anytime(store: Store, path: Path) -> Path:
    """Mean best-so-far validation score (with a 95% bootstrap band) against epochs spent."""
    meta = store.meta()
    grid, curves = anytime_curves(store)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for strategy, runs in curves.items():
        complete = ~np.isnan(runs).any(axis=0)
        if not complete.any():
            continue
        x, data = grid[complete], runs[:, complete]
        low, high = bootstrap_band(data)
        colour = strategy_colour(strategy)
        ax.plot(x, data.mean(axis=0), color=colour, label=f"{strategy} (n={len(runs)})")
        ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
    ax.set_xlabel("epochs spent (all evaluations)")
    ax.set_ylabel(f"best full-fidelity validation {meta['metric']}")
    ax.set_title(f"{meta['task']}: anytime performance (mean, 95% CI over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_test_scores(store: Store, path: Path) -> Path:
    """Each strategy's incumbent test scores over seeds: a box and the individual seeds."""
    meta = store.meta()
    scores: dict[str, list[float]] = {}
    for o in seed_outcomes(store):
        if o.best is not None and o.best.test:
            scores.setdefault(o.strategy, []).append(o.best.test[meta["metric"]])
    names = sorted(scores, key=lambda s: np.mean(scores[s]), reverse=meta["maximize"])
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(names) + 2), 4.5))
    if names:
        boxes = ax.boxplot([scores[s] for s in names], patch_artist=True, widths=0.5)
        for patch, name in zip(boxes["boxes"], names, strict=True):
            patch.set_facecolor((*strategy_colour(name), 0.35))
        rng = np.random.default_rng(0)
        for i, name in enumerate(names, start=1):
            x = i + rng.uniform(-0.12, 0.12, len(scores[name]))
            ax.scatter(x, scores[name], color=strategy_colour(name), s=18, zorder=3)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
    ax.set_xlabel("strategy")
    ax.set_ylabel(f"test {meta['metric']} of the incumbent")
    ax.set_title(f"{meta['task']}: final test score per seed")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_ranks(store: Store, path: Path) -> Path:
    """Mean rank by test score over seeds, with the Nemenyi critical difference when defined."""
    meta = store.meta()
    metric = meta["metric"]
    blocks = seed_blocks(seed_outcomes(store), metric)
    names = sorted(blocks[0]) if blocks else []
    ranks: dict[str, list[float]] = {n: [] for n in names}
    for block in blocks:
        for name, rank in average_ranks(block, meta["maximize"]).items():
            ranks[name].append(rank)
    order = sorted(names, key=lambda n: np.mean(ranks[n]))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(order) + 1.8))
    for y, name in enumerate(order):
        ax.scatter(np.mean(ranks[name]), y, color=strategy_colour(name), s=60, zorder=3)
        ax.scatter(ranks[name], [y] * len(ranks[name]), color=strategy_colour(name), s=10,
                   alpha=0.4)  # fmt: skip
    cd = critical_difference(len(order), len(blocks))
    if len(order) >= 3 and len(blocks) >= 5 and not math.isnan(cd):
        best = np.mean(ranks[order[0]])
        ax.plot([best, best + cd], [-0.8, -0.8], color="black", linewidth=3)
        ax.text(
            best + cd / 2, -1.2, f"Nemenyi CD = {cd:.2f} (alpha = 0.05)", ha="center", fontsize=8
        )
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set_xlim(0.5, len(order) + 0.5)
    ax.set_xlabel(f"rank by test {metric} (1 = best); large dot: mean over {len(blocks)} seeds")
    ax.set_ylabel("strategy")
    ax.set_title(f"{meta['task']}: ranks across seeds")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_importance(importance: list[tuple[str, float]], metric: str, path: Path) -> Path:
    """Horizontal bars of mean |contribution| per hyperparameter, largest on top."""
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(importance) + 1.5))
    names = [n for n, _ in importance]
    ax.barh(names, [v for _, v in importance], color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel(f"mean |SHAP contribution| to validation {metric}")
    ax.set_ylabel("hyperparameter")
    ax.set_title("What mattered: XGBoost fitted to full-fidelity evaluations")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)
