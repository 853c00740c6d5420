"""Leaderboard tables built from the store only: ``leaderboard.csv`` and ``leaderboard.md``.

Per (strategy, seed) the incumbent is the best full-fidelity evaluation on validation; its test
metrics are the only test numbers read. Rows are aggregated over seeds and sorted best first.
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfnas.store import Store, TrialRecord, incumbent

COLUMNS = (
    "strategy",
    "n_seeds",
    "metric",
    "val_mean",
    "test_mean",
    "test_std",
    "budget_epochs_mean",
    "trials_mean",
    "crashed_mean",
    "wall_seconds_mean",
)


@dataclass(frozen=True)
class SeedOutcome:
    """One (strategy, seed) study as read back from the store."""

    strategy: str
    seed: int
    best: TrialRecord | None
    budget_epochs: int
    trials: int
    crashed: int
    wall_seconds: float


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0 if values else float("nan")


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
            best=incumbent(records, meta["max_epochs"], meta["maximize"]),
            budget_epochs=sum(r.epochs for r in records),
            trials=len(records),
            crashed=sum(r.status == "crashed" for r in records),
            wall_seconds=max(r.end for r in records),
        )
        for (strategy, seed), records in groups.items()
    ]


def leaderboard_rows(store: Store) -> list[dict[str, Any]]:
    """One row per strategy (columns ``COLUMNS``), best test mean first."""
    meta = store.meta()
    metric = meta["metric"]
    by_strategy: dict[str, list[SeedOutcome]] = {}
    for outcome in seed_outcomes(store):
        by_strategy.setdefault(outcome.strategy, []).append(outcome)
    rows = []
    for strategy, outcomes in by_strategy.items():
        found = [o.best for o in outcomes if o.best is not None]
        tests = [b.test[metric] for b in found if b.test]
        rows.append(
            {
                "strategy": strategy,
                "n_seeds": len(outcomes),
                "metric": metric,
                "val_mean": _mean([b.curve[-1] for b in found]),
                "test_mean": _mean(tests),
                "test_std": _std(tests),
                "budget_epochs_mean": _mean([o.budget_epochs for o in outcomes]),
                "trials_mean": _mean([o.trials for o in outcomes]),
                "crashed_mean": _mean([o.crashed for o in outcomes]),
                "wall_seconds_mean": _mean([o.wall_seconds for o in outcomes]),
            }
        )
    sign = -1.0 if meta["maximize"] else 1.0
    return sorted(rows, key=lambda r: (r["test_mean"] != r["test_mean"], sign * r["test_mean"]))


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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]


def write_leaderboard(store: Store, out_dir: str | Path) -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir``; return the rows."""
    out = Path(out_dir)
    meta = store.meta()
    rows = leaderboard_rows(store)
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# Leaderboard: {meta['task']} ({meta.get('mode', 'live')})",
        "",
        f"Reproduce: `{meta.get('command', '')}`",
        "",
        f"Objective: validation {meta['metric']} "
        f"({'higher' if meta['maximize'] else 'lower'} is better); the incumbent of each seed is "
        f"its best evaluation at full fidelity ({meta['max_epochs']} epochs) on validation, and "
        f"only its test score is read. Budget: {meta['budget_epochs']} epochs per strategy and "
        "seed, every evaluation counted. Best test mean first.",
        "",
        *_md_table(list(COLUMNS), [[row[c] for c in COLUMNS] for row in rows]),
    ]
    metrics = incumbent_metrics(store)
    if metrics:
        names = list(next(iter(metrics.values())))
        table = [
            [s, *(metrics[s][n] for n in names)]
            for s in (r["strategy"] for r in rows)
            if s in metrics
        ]
        lines += ["", "## Incumbents' test metrics (mean over seeds)", ""]
        lines += _md_table(["strategy", *names], table)
    best = [o for o in seed_outcomes(store) if o.best is not None]
    if best:
        sign = 1.0 if meta["maximize"] else -1.0
        top = max(best, key=lambda o: sign * o.best.curve[-1])
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
