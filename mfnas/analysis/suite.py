"""Several runs side by side: tasks (``--task recsys,image``) and/or budgets (``--budget 5,20``).

Each (task, budget) runs as a run of its own in ``<out>/<name>/`` (leaderboard, report and store
as usual); then ``write_suite`` writes ``<out>/leaderboard.md`` and ``.csv``: per strategy, its
mean rank over every (run, seed) block (each block ranked in its own task's direction), the
Friedman test over those blocks, and per run its test mean and its speedup over random search.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfnas.analysis.leaderboard import leaderboard_rows
from mfnas.analysis.render import render
from mfnas.analysis.stats import Friedman, friedman, rank_blocks
from mfnas.analysis.view import RunView
from mfnas.store import Store


@dataclass(frozen=True)
class Suite:
    """Runs side by side: one row per strategy (``strategy``, ``mean_rank``, ``blocks``, then
    ``columns``), best mean rank first, and the Friedman test over the (run, seed) blocks."""

    rows: list[dict[str, Any]]
    columns: list[str]
    friedman: Friedman | None


def suite_rows(out: Path, runs: list[str]) -> Suite:
    """Read each run's store in ``out`` once and rank its strategies over every (run, seed)
    block, each block in its run's direction; a strategy missing from a run ranks last in that
    run's blocks (as does a NaN score)."""
    views = []
    for run in runs:
        with Store(out / run / "trials.sqlite", readonly=True) as store:
            views.append(RunView.load(store))
    names = sorted({name for view in views for name in view.strategies})
    columns: list[str] = []
    tests: dict[str, dict[str, float]] = {name: {} for name in names}
    for run, view in zip(runs, views, strict=True):
        column, speed = f"{run}:{view.metric}", f"{run}:speedup_vs_random"
        columns += [column, speed]
        for row in leaderboard_rows(view):
            found = tests[row["strategy"]]
            found[column], found[speed] = row["test_mean"], row["speedup_vs_random"]
    ranks = np.concatenate(
        [np.empty((0, len(names)))]
        + [rank_blocks(view.blocks, names, view.direction) for view in views]
    )
    means = ranks.mean(axis=0) if len(ranks) else np.full(len(names), math.nan)
    rows = [
        {"strategy": name, "mean_rank": float(mean), "blocks": len(ranks),
         **{c: tests[name].get(c, math.nan) for c in columns}}
        for name, mean in zip(names, means, strict=True)
    ]  # fmt: skip
    return Suite(sorted(rows, key=lambda r: r["mean_rank"]), columns, friedman(ranks))


def write_suite(out: Path, runs: list[str], command: str) -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` of runs side by side (whose list and
    specs ``suite.json`` keeps, written by whoever ran them); return the rows."""
    suite = suite_rows(out, runs)
    header = ["strategy", "mean_rank", "blocks", *suite.columns]
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(suite.rows)
    page = render(
        "suite.md",
        runs=runs,
        command=command,
        n_blocks=suite.rows[0]["blocks"] if suite.rows else 0,
        header=header,
        rows=[[row[c] for c in header] for row in suite.rows],
        friedman=suite.friedman,
        blocks_are="(run, seed) pairs",
    )
    (out / "leaderboard.md").write_text(page)
    return suite.rows
