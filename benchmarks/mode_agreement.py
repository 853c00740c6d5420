"""Do two runs rank the strategies alike? Kendall's tau between their leaderboards.

Usage: ``python benchmarks/mode_agreement.py RUN_A RUN_B [RUN_C ...]``, e.g. the tabular and
surrogate replays of one task, budget and seed count, and a live run::

    python -m mfnas.bench --task recsys --mode tabular --strategies all --budget 10 --seeds 20 \\
        --out /tmp/tab
    python -m mfnas.bench --task recsys --mode surrogate --strategies all --budget 10 \\
        --seeds 20 --out /tmp/sur
    python benchmarks/mode_agreement.py /tmp/tab /tmp/sur

Each RUN holds a published ``leaderboard.csv``. For every pair of runs it prints Kendall's tau
(``scipy.stats.kendalltau``, tau-b) over the strategies both ran, once on their mean ranks and
once on their mean test scores, and the strategies whose positions differ most.
"""

from __future__ import annotations

import csv
import itertools
import sys
from pathlib import Path

from scipy.stats import kendalltau


def leaderboard(run: Path) -> dict[str, dict[str, float]]:
    """``{strategy: {"mean_rank": ..., "test_mean": ...}}`` of a run (reference rows left out)."""
    path = run / "leaderboard.csv"
    if not path.is_file():
        sys.exit(f"no leaderboard.csv in {run}")
    with path.open() as handle:
        rows = [r for r in csv.DictReader(handle) if not r["strategy"].startswith("reference:")]
    return {
        r["strategy"]: {"mean_rank": float(r["mean_rank"]), "test_mean": float(r["test_mean"])}
        for r in rows
    }


def agreement(a: dict, b: dict, column: str) -> tuple[float, int]:
    """Kendall's tau of ``column`` over the strategies in both, and how many there are."""
    names = sorted(set(a) & set(b))
    tau = kendalltau([a[n][column] for n in names], [b[n][column] for n in names]).statistic
    return float(tau), len(names)


def positions(board: dict[str, dict[str, float]], names: set[str]) -> dict[str, int]:
    """The place by mean rank (1 = best) of each strategy of ``names`` among ``names``."""
    ordered = sorted(names, key=lambda n: board[n]["mean_rank"])
    return {name: place for place, name in enumerate(ordered, start=1)}


def main(*runs: str) -> None:
    boards = {run: leaderboard(Path(run)) for run in runs}
    for first, second in itertools.combinations(runs, 2):
        a, b = boards[first], boards[second]
        by_rank, n = agreement(a, b, "mean_rank")
        by_score, _ = agreement(a, b, "test_mean")
        print(f"{first} vs {second}: {n} strategies, Kendall tau {by_rank:.2f} on mean ranks, "
              f"{by_score:.2f} on mean test scores")  # fmt: skip
        shared = set(a) & set(b)
        pa, pb = positions(a, shared), positions(b, shared)
        moved = sorted(shared, key=lambda s: (-abs(pa[s] - pb[s]), s))[:3]
        print("  most moved: " + ", ".join(f"{s} {pa[s]} -> {pb[s]}" for s in moved))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python benchmarks/mode_agreement.py RUN_A RUN_B [RUN_C ...]")
    main(*sys.argv[1:])
