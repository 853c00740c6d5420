"""Leaderboard tables built from a run's view only: ``leaderboard.csv`` and ``leaderboard.md``.

Per (strategy, seed) the incumbent is the best full-fidelity evaluation on validation; its test
metrics are the only test numbers read. Rows are aggregated over seeds and sorted best first.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mfnas.analysis.render import fmt, render
from mfnas.analysis.stats import bootstrap_ci, speedup
from mfnas.analysis.view import RunView, seed_blocks, seed_outcomes
from mfnas.direction import Direction

__all__ = [  # seed_blocks and seed_outcomes are re-exported for benchmarks/paired.py
    "COLUMNS",
    "best_configuration",
    "incumbent_metrics",
    "leaderboard_rows",
    "mode_note",
    "page_context",
    "predictor_quality",
    "reference_csv_rows",
    "reference_table",
    "regret",
    "seed_blocks",
    "seed_outcomes",
    "shown_columns",
    "write_leaderboard",
]

COLUMNS = (
    "strategy",
    "n_seeds",
    "metric",
    "val_mean",
    "val_std",
    "test_mean",
    "test_std",
    "test_ci_low",
    "test_ci_high",
    "mean_rank",
    "speedup_vs_random",
    "regret_mean",
    "answer_distance_mean",
    "prior_data",
    "pred_spearman",
    "pred_topk_hit",
    "epochs_spent_mean",
    "trials_mean",
    "crashed_mean",
    "wall_seconds_mean",
)
REFERENCE = "random"


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0 if values else math.nan


def _mean_curve(curves: np.ndarray) -> np.ndarray:
    """Mean over seeds, defined only where every seed has a value."""
    return np.where(np.isnan(curves).any(axis=0), np.nan, curves.mean(axis=0))


def regret(test: float, replay: Mapping[str, Any] | None) -> float:
    """Normalised regret of a test score in a tabular replay: 0 for the best recorded final
    test score, 1 for the worst; NaN where the best achievable score is unknown (live runs,
    surrogate replays)."""
    if not replay or "test_best" not in replay:
        return math.nan
    best, worst = replay["test_best"], replay["test_worst"]
    return (best - test) / (best - worst) if best != worst else 0.0


def predictor_quality(
    diagnostics: Sequence[Mapping[str, Any]], direction: Direction = Direction.MAXIMIZE
) -> tuple[float, float]:
    """Mean over seeds of a predictor's Spearman (predicted vs measured full-fidelity score of
    the configurations it sent to full training) and of its top-k hit rate: the share of the k
    candidates that truly score best (``truth``, known in replays) that were among its k
    picks. NaN where no seed defines them."""
    spearmans, hits = [], []
    for info in diagnostics:
        predictor = info.get("predictor") or {}
        if predictor.get("spearman") is not None:
            spearmans.append(predictor["spearman"])
        candidates = [c for c in predictor.get("candidates") or [] if c.get("truth") is not None]
        picks = {json.dumps(p["config"], sort_keys=True) for p in predictor.get("picks") or []}
        k = len(picks)
        if candidates and k:
            best = direction.ranked(candidates, key=lambda c: c["truth"])[:k]
            found = sum(json.dumps(c["config"], sort_keys=True) in picks for c in best)
            hits.append(found / min(k, len(best)))
    return _mean(spearmans), _mean(hits)


def leaderboard_rows(view: RunView) -> list[dict[str, Any]]:
    """One row per strategy (columns ``COLUMNS``), best test mean first, no test mean last."""
    meta, metric, direction = view.meta, view.metric, view.direction
    grid, curves = view.budget_curves
    reference = _mean_curve(curves[REFERENCE]) if REFERENCE in curves else None
    rows = []
    for strategy, group in view.by_strategy.items():
        found = [o.best for o in group if o.best is not None]
        tests = [t for t in (o.test_score(metric) for o in group) if not math.isnan(t)]
        low, high = bootstrap_ci(tests)
        infos = [view.diagnostics.get((strategy, o.seed), {}) for o in group]
        spearman, topk = predictor_quality(infos, direction)
        rows.append(
            {
                "strategy": strategy,
                "n_seeds": len(group),
                "metric": metric,
                "val_mean": _mean([b.curve[-1] for b in found]),
                "val_std": _std([b.curve[-1] for b in found]),
                "test_mean": _mean(tests),
                "test_std": _std(tests),
                "test_ci_low": low,
                "test_ci_high": high,
                "mean_rank": view.mean_ranks[strategy],
                "speedup_vs_random": math.nan
                if reference is None
                else speedup(reference, _mean_curve(curves[strategy]), grid, direction),
                "regret_mean": _mean([regret(t, meta.get("replay")) for t in tests]),
                "answer_distance_mean": _mean(
                    [b.extra["recorded_distance"] for b in found if "recorded_distance" in b.extra]
                ),
                "prior_data": "yes" if any(i.get("prior_curves") for i in infos) else "",
                "pred_spearman": spearman,
                "pred_topk_hit": topk,
                "epochs_spent_mean": _mean([o.epochs_spent for o in group]),
                "trials_mean": _mean([o.trials for o in group]),
                "crashed_mean": _mean([o.crashed for o in group]),
                "wall_seconds_mean": _mean([o.wall_seconds for o in group]),
            }
        )
    scored = [r for r in rows if not math.isnan(r["test_mean"])]
    return [
        *direction.ranked(scored, key=lambda r: r["test_mean"]),
        *(r for r in rows if math.isnan(r["test_mean"])),
    ]


def reference_csv_rows(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Reference rows for ``leaderboard.csv``, named ``reference:<name>``, with n_seeds 0."""
    metric = meta["metric"]
    return [
        {"strategy": f"reference:{name}", "n_seeds": 0, "metric": metric,
         "val_mean": ref["val"][metric], "test_mean": ref["test"][metric]}
        for name, ref in (meta.get("references") or {}).items()
    ]  # fmt: skip


def reference_table(meta: Mapping[str, Any]) -> list[list[Any]]:
    """The reference rows for a page's table: name, validation and test metric, note."""
    metric = meta["metric"]
    return [
        [name, ref["val"][metric], ref["test"][metric], ref.get("note", "")]
        for name, ref in (meta.get("references") or {}).items()
    ]


def incumbent_metrics(view: RunView) -> dict[str, dict[str, float]]:
    """Per strategy, the mean over seeds of every test metric of the incumbents."""
    by_strategy: dict[str, list[dict[str, float]]] = {}
    for outcome in view.outcomes:
        if outcome.best is not None and outcome.best.test:
            by_strategy.setdefault(outcome.strategy, []).append(outcome.best.test)
    return {
        strategy: {name: _mean([t[name] for t in tests]) for name in tests[0]}
        for strategy, tests in by_strategy.items()
    }


def best_configuration(view: RunView) -> str | None:
    """The best incumbent's configuration as indented, key-sorted JSON; None without one."""
    top = view.best_outcome
    return None if top is None else json.dumps(top.best.config, indent=2, sort_keys=True)


def shown_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``COLUMNS`` a page shows: those not empty for every row (the csv keeps all)."""
    return [c for c in COLUMNS if any(fmt(row[c]) for row in rows)]


def mode_note(meta: dict[str, Any]) -> str:
    """One paragraph saying how the run's numbers were produced: its mode's own note."""
    from mfnas.replay.modes import mode_of  # the modes import the replay tasks: when asked

    return mode_of(meta).note(meta)


def page_context(view: RunView, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What ``leaderboard.md`` and ``report.html`` both show of a run, for their templates."""
    meta = view.meta
    shown = shown_columns(rows)
    metrics = incumbent_metrics(view)
    names = list(next(iter(metrics.values()))) if metrics else []
    top = view.best_outcome
    return {
        "meta": meta,
        "mode": meta.get("mode", "live"),
        "command": meta.get("command", ""),
        "mode_note": mode_note(meta),
        "direction": view.direction,
        "columns": shown,
        "rows": [[row[c] for c in shown] for row in rows],
        "metric_names": names,
        "incumbent_metrics": [
            [r["strategy"], *(metrics[r["strategy"]][n] for n in names)]
            for r in rows
            if r["strategy"] in metrics
        ],
        "references": reference_table(meta),
        "friedman": view.friedman,
        "blocks_are": "seeds",
        "top": top,
        "best_config": best_configuration(view),
    }


def write_leaderboard(view: RunView, out_dir: str | Path) -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir``; return the rows."""
    out = Path(out_dir)
    rows = leaderboard_rows(view)
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
        writer.writerows(reference_csv_rows(view.meta))
    (out / "leaderboard.md").write_text(render("leaderboard.md", **page_context(view, rows)))
    return rows
