"""Several runs side by side: tasks (``--task recsys,image``) and/or budgets (``--budget 5,20``).

Each (task, budget) runs as a run of its own in ``<out>/<name>/`` (leaderboard, report and store
as usual); then ``write_suite`` writes ``<out>/leaderboard.md`` and ``.csv``: per strategy, its
mean rank over every (run, seed) block (each block ranked in its own task's direction), and per
run its test mean and its speedup over random search.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from mfnas.analysis.leaderboard import leaderboard_rows, md_table, seed_blocks, seed_outcomes
from mfnas.analysis.stats import mean_ranks
from mfnas.store import Store

SUITE = "suite.json"


def suite_rows(out: Path, runs: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per strategy, best mean rank first, and the per-run column names.

    A strategy missing from a run ranks last in that run's blocks (NaN scores rank last).
    """
    blocks: list[dict[str, float]] = []
    columns: list[str] = []
    tests: dict[str, dict[str, float]] = {}
    for run in runs:
        with Store(out / run / "trials.sqlite") as store:
            meta = store.meta()
            sign = 1.0 if meta["maximize"] else -1.0  # every block: higher is better
            for block in seed_blocks(seed_outcomes(store), meta["metric"]):
                blocks.append({name: sign * score for name, score in block.items()})
            column, speed = f"{run}:{meta['metric']}", f"{run}:speedup_vs_random"
            columns += [column, speed]
            for row in leaderboard_rows(store):
                found = tests.setdefault(row["strategy"], {})
                found[column], found[speed] = row["test_mean"], row["speedup_vs_random"]
    names = sorted(tests)
    ranks = mean_ranks([{n: b.get(n, math.nan) for n in names} for b in blocks], True)
    rows = [
        {"strategy": name, "mean_rank": ranks[name], "blocks": len(blocks),
         **{c: tests[name].get(c, math.nan) for c in columns}}
        for name in names
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r["mean_rank"]), columns


def write_suite(out: Path, runs: list[str], command: str) -> list[dict[str, Any]]:
    """Write ``suite.json``, ``leaderboard.csv`` and ``leaderboard.md`` of runs side by side."""
    rows, columns = suite_rows(out, runs)
    header = ["strategy", "mean_rank", "blocks", *columns]
    (out / SUITE).write_text(json.dumps({"runs": runs, "command": command}, indent=2) + "\n")
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# Runs side by side: {', '.join(runs)}",
        "",
        f"Reproduce: `{command}`",
        "",
        "`mean_rank`: each strategy's rank by incumbent test score in every (run, seed) "
        "block, in that run's task direction (1 = best, ties share), averaged over the "
        f"{rows[0]['blocks'] if rows else 0} blocks; then per run its test mean and "
        "`speedup_vs_random` (the budget random search needs to reach its own final mean best "
        "validation score over the budget this strategy needs; empty: never). Each run's own "
        "leaderboard, report and store are in its folder.",
        "",
        *md_table(header, [[row[c] for c in header] for row in rows]),
    ]
    (out / "leaderboard.md").write_text("\n".join(lines) + "\n")
    return rows
