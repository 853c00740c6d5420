"""Leaderboard tables built from the store only: ``leaderboard.csv`` and ``leaderboard.md``.

Per (strategy, seed) the incumbent is the best full-fidelity evaluation on validation; its test
metrics are the only test numbers read. Rows are aggregated over seeds and sorted best first.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfnas.analysis.stats import best_so_far, bootstrap_ci, mean_ranks, speedup
from mfnas.direction import Direction
from mfnas.store import Store, TrialRecord, incumbent

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
    "prior_data",
    "pred_spearman",
    "pred_topk_hit",
    "budget_epochs_mean",
    "trials_mean",
    "crashed_mean",
    "wall_seconds_mean",
)
REFERENCE = "random"
GRID_POINTS = 200


@dataclass(frozen=True)
class SeedOutcome:
    """One (strategy, seed) study as read back from the store.

    ``events`` holds (epochs spent when it finished, validation objective) of every ``ok``
    full-fidelity evaluation, in finishing order: the study's anytime trajectory.
    """

    strategy: str
    seed: int
    best: TrialRecord | None
    budget_epochs: int
    trials: int
    crashed: int
    wall_seconds: float
    events: tuple[tuple[int, float], ...]


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0 if values else math.nan


def _events(records: list[TrialRecord], max_epochs: int) -> tuple[tuple[int, float], ...]:
    spent, events = 0, []
    for record in records:
        spent += record.epochs
        if record.status == "ok" and record.epochs >= max_epochs:
            events.append((spent, record.curve[-1]))
    return tuple(events)


def seed_outcomes(store: Store) -> list[SeedOutcome]:
    """Every (strategy, seed) study in the store with its incumbent, in first-seen order."""
    meta = store.meta()
    groups: dict[tuple[str, int], list[TrialRecord]] = {}
    for record in store.records():
        groups.setdefault((record.strategy, record.seed), []).append(record)
    return [
        SeedOutcome(
            strategy=strategy,
            seed=seed,
            best=incumbent(records, meta["max_epochs"], Direction.of(meta["maximize"])),
            budget_epochs=sum(r.epochs for r in records),
            trials=len(records),
            crashed=sum(r.status == "crashed" for r in records),
            wall_seconds=max(r.end for r in records),
            events=_events(records, meta["max_epochs"]),
        )
        for (strategy, seed), records in groups.items()
    ]


def _by_strategy(outcomes: list[SeedOutcome]) -> dict[str, list[SeedOutcome]]:
    grouped: dict[str, list[SeedOutcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome.strategy, []).append(outcome)
    return grouped


def _test_score(outcome: SeedOutcome, metric: str) -> float:
    best = outcome.best
    return best.test[metric] if best is not None and best.test else math.nan


def seed_blocks(outcomes: list[SeedOutcome], metric: str) -> list[dict[str, float]]:
    """Per seed (ascending), every strategy's incumbent test score; NaN where it has none."""
    names = list(_by_strategy(outcomes))
    blocks: dict[int, dict[str, float]] = {}
    for o in outcomes:
        blocks.setdefault(o.seed, dict.fromkeys(names, math.nan))[o.strategy] = _test_score(
            o, metric
        )
    return [blocks[seed] for seed in sorted(blocks)]


def anytime_curves(store: Store) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Best-so-far full-fidelity validation score against epochs spent, per strategy.

    Returns the grid of epochs (0..budget) and, per strategy, a (seeds x grid) array; a point
    before a seed's first full-fidelity evaluation is NaN.
    """
    meta = store.meta()
    grid = np.unique(np.linspace(0, meta["budget_epochs"], GRID_POINTS + 1).round())
    curves = {
        strategy: np.array([best_so_far(o.events, grid, meta["maximize"]) for o in outcomes])
        for strategy, outcomes in _by_strategy(seed_outcomes(store)).items()
    }
    return grid, curves


def _mean_curve(curves: np.ndarray) -> np.ndarray:
    """Mean over seeds, defined only where every seed has a value."""
    return np.where(np.isnan(curves).any(axis=0), np.nan, curves.mean(axis=0))


def regret(test: float, replay: dict[str, Any] | None) -> float:
    """Normalised regret of a test score in a tabular replay: 0 for the best recorded final
    test score, 1 for the worst; NaN where the best achievable score is unknown (live runs,
    surrogate replays)."""
    if not replay or "test_best" not in replay:
        return math.nan
    best, worst = replay["test_best"], replay["test_worst"]
    return (best - test) / (best - worst) if best != worst else 0.0


def predictor_quality(
    diagnostics: list[dict[str, Any]], maximize: bool = True
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
            best = sorted(candidates, key=lambda c: c["truth"], reverse=maximize)[:k]
            found = sum(json.dumps(c["config"], sort_keys=True) in picks for c in best)
            hits.append(found / min(k, len(best)))
    return _mean(spearmans), _mean(hits)


def leaderboard_rows(store: Store) -> list[dict[str, Any]]:
    """One row per strategy (columns ``COLUMNS``), best test mean first."""
    meta = store.meta()
    metric, maximize = meta["metric"], meta["maximize"]
    outcomes = seed_outcomes(store)
    grouped = _by_strategy(outcomes)
    ranks = mean_ranks(seed_blocks(outcomes, metric), maximize)
    grid, curves = anytime_curves(store)
    reference = _mean_curve(curves[REFERENCE]) if REFERENCE in curves else None
    diagnostics = store.diagnostics()
    rows = []
    for strategy, group in grouped.items():
        found = [o.best for o in group if o.best is not None]
        tests = [t for t in (_test_score(o, metric) for o in group) if not math.isnan(t)]
        vals = [b.curve[-1] for b in found]
        low, high = bootstrap_ci(tests)
        infos = [diagnostics.get((strategy, o.seed), {}) for o in group]
        spearman, topk = predictor_quality(infos, maximize)
        rows.append(
            {
                "strategy": strategy,
                "n_seeds": len(group),
                "metric": metric,
                "val_mean": _mean(vals),
                "val_std": _std(vals),
                "test_mean": _mean(tests),
                "test_std": _std(tests),
                "test_ci_low": low,
                "test_ci_high": high,
                "mean_rank": ranks[strategy],
                "speedup_vs_random": math.nan
                if reference is None
                else speedup(reference, _mean_curve(curves[strategy]), grid, maximize),
                "regret_mean": _mean([regret(t, meta.get("replay")) for t in tests]),
                "prior_data": "yes" if any(i.get("prior_curves") for i in infos) else "",
                "pred_spearman": spearman,
                "pred_topk_hit": topk,
                "budget_epochs_mean": _mean([o.budget_epochs for o in group]),
                "trials_mean": _mean([o.trials for o in group]),
                "crashed_mean": _mean([o.crashed for o in group]),
                "wall_seconds_mean": _mean([o.wall_seconds for o in group]),
            }
        )
    sign = -1.0 if maximize else 1.0
    return sorted(rows, key=lambda r: (math.isnan(r["test_mean"]), sign * r["test_mean"]))


def reference_csv_rows(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Reference rows for ``leaderboard.csv``, named ``reference:<name>``, with n_seeds 0."""
    metric = meta["metric"]
    return [
        {"strategy": f"reference:{name}", "n_seeds": 0, "metric": metric,
         "val_mean": ref["val"][metric], "test_mean": ref["test"][metric]}
        for name, ref in (meta.get("references") or {}).items()
    ]  # fmt: skip


def incumbent_metrics(store: Store) -> dict[str, dict[str, float]]:
    """Per strategy, the mean over seeds of every test metric of the incumbents."""
    by_strategy: dict[str, list[dict[str, float]]] = {}
    for outcome in seed_outcomes(store):
        if outcome.best is not None and outcome.best.test:
            by_strategy.setdefault(outcome.strategy, []).append(outcome.best.test)
    return {
        strategy: {name: _mean([t[name] for t in tests]) for name in tests[0]}
        for strategy, tests in by_strategy.items()
    }


def best_outcome(store: Store) -> SeedOutcome | None:
    """The (strategy, seed) study whose incumbent has the best validation score overall."""
    found = [o for o in seed_outcomes(store) if o.best is not None]
    if not found:
        return None
    sign = 1.0 if store.meta()["maximize"] else -1.0
    return max(found, key=lambda o: sign * o.best.curve[-1])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table (floats to 4 decimals, NaN empty) as lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]


def mode_note(meta: dict[str, Any]) -> str:
    """One paragraph saying how the run's numbers were produced: live training or a replay."""
    mode, replay = meta.get("mode", "live"), meta.get("replay") or {}
    prior = f" Prior data: {replay['prior']} (validation curves only)." if "prior" in replay else ""
    if mode == "live":
        return f"Mode: live: every evaluation trained; `wall_seconds` are real seconds.{prior}"
    kind = {"tabular": "recorded learning curves", "surrogate": "an XGBoost surrogate fitted "
            "on recorded learning curves"}.get(mode, mode)  # fmt: skip
    answers = f" ({replay['answers']})" if "answers" in replay else ""
    return (
        f"Mode: {mode} replay: evaluations answered from {kind} in `{replay.get('source')}`"
        f"{answers}; `wall_seconds` are on a simulated clock: recorded (or predicted) training "
        f"seconds plus each strategy's measured decision time.{prior}"
    )


def write_leaderboard(store: Store, out_dir: str | Path) -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir``; return the rows."""
    out = Path(out_dir)
    meta = store.meta()
    rows = leaderboard_rows(store)
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
        writer.writerows(reference_csv_rows(meta))
    shown = [c for c in COLUMNS if any(_fmt(row[c]) for row in rows)]
    lines = [
        f"# Leaderboard: {meta['task']} ({meta.get('mode', 'live')})",
        "",
        f"Reproduce: `{meta.get('command', '')}`",
        "",
        mode_note(meta),
        "",
        f"Objective: validation {meta['metric']} "
        f"({'higher' if meta['maximize'] else 'lower'} is better); the incumbent of each seed is "
        f"its best evaluation at full fidelity ({meta['max_epochs']} epochs) on validation, and "
        f"only its test score is read. Budget: {meta['budget_epochs']} epochs per strategy and "
        "seed, every evaluation counted. Best test mean first; `test_ci_*` is a 95% bootstrap "
        "CI of the mean, `mean_rank` the mean rank by test score over seeds (1 = best), "
        "`speedup_vs_random` the budget random search needs to reach its own final mean "
        "best validation score divided by the budget this strategy needs (empty: never "
        "reached), `regret_mean` the normalised test regret (0: the best recorded "
        "configuration, 1: the worst; tabular replays only), `prior_data` marks strategies "
        "given recorded curves before the run, `pred_spearman` and `pred_topk_hit` the quality "
        "of a strategy's own predictor (Spearman of predicted vs measured full-fidelity score "
        "of what it trained fully; share of the truly best k candidates among its k picks, "
        "replays only). Columns empty for every strategy are left out here (not in the csv).",
        "",
        *md_table(shown, [[row[c] for c in shown] for row in rows]),
    ]
    metrics = incumbent_metrics(store)
    if metrics:
        names = list(next(iter(metrics.values())))
        order = [r["strategy"] for r in rows if r["strategy"] in metrics]
        lines += ["", "## Incumbents' test metrics (mean over seeds)", ""]
        lines += md_table(
            ["strategy", *names], [[s, *(metrics[s][n] for n in names)] for s in order]
        )
    references = meta.get("references") or {}
    if references:
        metric = meta["metric"]
        lines += ["", "## Reference rows (not searched; same split, fitted on train)", ""]
        lines += md_table(
            ["reference", f"val {metric}", f"test {metric}", "notes"],
            [[name, ref["val"][metric], ref["test"][metric], ref.get("note", "")]
             for name, ref in references.items()],
        )  # fmt: skip
    top = best_outcome(store)
    if top is not None:
        lines += [
            "",
            f"## Best configuration found (by validation: {top.strategy}, seed {top.seed})",
            "",
            "```json",
            json.dumps(top.best.config, indent=2, sort_keys=True),
            "```",
        ]
    (out / "leaderboard.md").write_text("\n".join(lines) + "\n")
    return rows
