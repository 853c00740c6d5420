"""PNG plots of a run, read from its view: anytime curves, test scores, ranks, importance.

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

from mfnas.analysis.stats import bootstrap_band
from mfnas.analysis.view import RunView

#: The fewest seeds (blocks) for which the ranks plot draws Nemenyi's critical difference.
CD_MIN_BLOCKS = 5
_PALETTE = plt.get_cmap("tab20").colors
_ORDER = ("random", "grid", "one-epoch", "evolution", "smac-bo", "hyperband", "smac-hb",
          "hierarchical", "optuna-tpe", "optuna-hb", "surrogate-hb", "surrogate-hb-nopred",
          "surrogate-hb-warm", "smac-gp", "optuna-gp", "dehb", "asha", "bohb-st",
          "asha-bore")  # fmt: skip
# (new names go last, so the others keep their colours)


def strategy_colour(name: str) -> tuple[float, float, float]:
    """A fixed colour per strategy name, the same in every plot and every run."""
    index = _ORDER.index(name) if name in _ORDER else sum(map(ord, name))
    return _PALETTE[(2 * index) % 20 if index < 10 else (2 * index + 1) % 20]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_anytime(view: RunView, path: Path) -> Path:
    """Mean best-so-far validation score (with a 95% bootstrap band) against epochs spent and,
    beside it, against the study clock (seconds; simulated in a replay)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    panels = (
        (axes[0], view.grid, view.curves, "epochs spent (all evaluations)"),
        (axes[1], view.seconds_grid, view.seconds_curves, "seconds on the study clock"),
    )
    for ax, grid, curves, label in panels:
        for strategy, runs in curves.items():
            complete = ~np.isnan(runs).any(axis=0)
            if not complete.any():
                continue
            x, data = grid[complete], runs[:, complete]
            low, high = bootstrap_band(data)
            colour = strategy_colour(strategy)
            ax.plot(x, data.mean(axis=0), color=colour, label=f"{strategy} (n={len(runs)})")
            ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"best full-fidelity validation {view.metric}")
    fig.suptitle(f"{view.meta['task']}: anytime performance (mean, 95% CI over seeds)")
    if axes[0].lines:  # no strategy has a complete curve: nothing to label
        axes[0].legend(fontsize=8)
    return _save(fig, path)


def plot_test_scores(view: RunView, path: Path) -> Path:
    """Each strategy's incumbent test scores over seeds: a box and the individual seeds."""
    scores: dict[str, list[float]] = {}
    for o in view.outcomes:
        if o.best is not None and o.best.test:
            scores.setdefault(o.strategy, []).append(o.best.test[view.metric])
    names = view.direction.ranked(scores, key=lambda s: np.mean(scores[s]))
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
    ax.set_ylabel(f"test {view.metric} of the incumbent")
    ax.set_title(f"{view.meta['task']}: final test score per seed")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_ranks(view: RunView, path: Path) -> Path:
    """Mean rank by test score over seeds; with at least 3 strategies and ``CD_MIN_BLOCKS``
    seeds, a bar as long as Nemenyi's critical difference from the best mean rank, labelled
    with it and the Friedman test's p-value."""
    n_blocks = len(view.blocks)
    order = sorted(view.strategies, key=lambda n: view.mean_ranks[n])
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(order) + 1.8))
    for y, name in enumerate(order):
        ranks = view.ranks[:, view.strategies.index(name)]
        ax.scatter(view.mean_ranks[name], y, color=strategy_colour(name), s=60, zorder=3)
        ax.scatter(ranks, [y] * len(ranks), color=strategy_colour(name), s=10, alpha=0.4)
    test = view.friedman
    if test is not None and n_blocks >= CD_MIN_BLOCKS and not math.isnan(test.critical_difference):
        best, cd = view.mean_ranks[order[0]], test.critical_difference
        ax.plot([best, best + cd], [-0.8, -0.8], color="black", linewidth=3)
        ax.text(best + cd / 2, -1.2, f"Nemenyi CD = {cd:.2f} (alpha = {test.alpha}); "
                f"Friedman p = {test.p_value:.3g}", ha="center", fontsize=8)  # fmt: skip
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set_xlim(0.5, len(order) + 0.5)
    ax.set_xlabel(f"rank by test {view.metric} (1 = best); large dot: mean over {n_blocks} seeds")
    ax.set_ylabel("strategy")
    ax.set_title(f"{view.meta['task']}: ranks across seeds")
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
