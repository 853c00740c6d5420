"""Several tasks in one benchmark run: ranks of the strategies across every (task, seed).

``python -m mfnas.bench --task recsys,image`` runs each task as a run of its own in
``<out>/<task>/`` (leaderboard, report and store as usual), then ``write_suite`` writes
``<out>/leaderboard.md`` and ``.csv``: per strategy, its mean rank over every (task, seed)
block (each block ranked in its own task's direction) and its test mean on each task.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from mfnas.leaderboard import leaderboard_rows, md_table, seed_blocks, seed_outcomes
from mfnas.stats import mean_ranks
from mfnas.store import Store

SUITE = "suite.json"


def suite_rows(out: Path, tasks: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per strategy, best mean rank first, and the per-task column names.

    A strategy missing from a task ranks last in that task's blocks (NaN scores rank last).
    """
    blocks: list[dict[str, float]] = []
    columns: list[str] = []
    tests: dict[str, dict[str, float]] = {}
    for task in tasks:
        with Store(out / task / "trials.sqlite") as store:
            meta = store.meta()
            sign = 1.0 if meta["maximize"] else -1.0  # every block: higher is better
            for block in seed_blocks(seed_outcomes(store), meta["metric"]):
                blocks.append({name: sign * score for name, score in block.items()})
            column = f"{task}:{meta['metric']}"
            columns.append(column)
            for row in leaderboard_rows(store):
                tests.setdefault(row["strategy"], {})[column] = row["test_mean"]
    names = sorted(tests)
    ranks = mean_ranks([{n: b.get(n, math.nan) for n in names} for b in blocks], True)
    rows = [
        {"strategy": name, "mean_rank": ranks[name], "blocks": len(blocks),
         **{c: tests[name].get(c, math.nan) for c in columns}}
        for name in names
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r["mean_rank"]), columns


def write_suite(out: Path, tasks: list[str], command: str) -> list[dict[str, Any]]:
    """Write ``suite.json``, ``leaderboard.csv`` and ``leaderboard.md`` of a multi-task run."""
    rows, columns = suite_rows(out, tasks)
    header = ["strategy", "mean_rank", "blocks", *columns]
    (out / SUITE).write_text(json.dumps({"tasks": tasks, "command": command}, indent=2) + "\n")
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# Suite leaderboard: {', '.join(tasks)}",
        "",
        f"Reproduce: `{command}`",
        "",
        "`mean_rank`: each strategy's rank by incumbent test score in every (task, seed) "
        "block, in that task's direction (1 = best, ties share), averaged over the "
        f"{rows[0]['blocks'] if rows else 0} blocks; then each task's test mean (its own "
        "leaderboard, report and store are in the task's folder).",
        "",
        *md_table(header, [[row[c] for c in header] for row in rows]),
    ]
    (out / "leaderboard.md").write_text("\n".join(lines) + "\n")
    return rows
