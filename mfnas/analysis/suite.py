"""Several runs side by side: tasks (``--task recsys,image``), budgets (``--budget 5,20``)
and/or modes (``--mode tabular,surrogate``).

Each (task, mode, budget) runs as a run of its own in ``<out>/<name>/`` (leaderboard, report and
store as usual); then ``write_suite`` writes ``<out>/leaderboard.md`` and ``.csv``: per strategy,
its mean rank over every (run, seed) block (each block ranked in its own task's direction), the
Friedman test over those blocks, and per run its test mean and its speedup over random search.
Where the same task and budget ran in several modes, it adds how alike each pair of modes ranks
the strategies (``Agreement``, also in ``agreement.csv``).
"""

from __future__ import annotations

import csv
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from mfnas.analysis.leaderboard import leaderboard_rows
from mfnas.analysis.render import render
from mfnas.analysis.stats import Friedman, friedman, rank_blocks
from mfnas.analysis.view import RunView
from mfnas.store import Store


@dataclass(frozen=True)
class Agreement:
    """How alike two runs of one task and budget in different modes rank the strategies they
    share: Kendall's tau-b between the strategies' mean ranks (each run's seeds ranked among
    those strategies only) and between their mean incumbent test scores; NaN with fewer than
    two strategies in common or where one side ties them all.

    The seed noise that bounds it: ``halves`` holds, for run a, run b, and across them, the
    mean tau between the mean ranks of two disjoint random draws of ``h`` seeds (within a run)
    or of ``h`` seeds of each run (across), ``h`` half the smaller run's seed count, over
    ``SPLITS`` draws; NaN below 2 seeds. All three are at ``h`` seeds, ``tau_rank`` at all. Where
    the modes agree across halves as well as each agrees with itself, the seeds, not the
    modes, limit the agreement."""

    task: str
    budget: str
    modes: tuple[str, str]
    runs: tuple[str, str]
    strategies: int
    seeds: tuple[int, int]
    tau_rank: float
    tau_test: float
    halves: tuple[float, float, float] = (math.nan, math.nan, math.nan)

    @property
    def cells(self) -> list[Any]:
        """The Markdown table's cells."""
        return [
            self.task, self.budget, " vs ".join(self.modes), self.strategies,
            " / ".join(map(str, self.seeds)), self.tau_rank, self.tau_test, *self.halves,
        ]  # fmt: skip

    def row(self) -> dict[str, Any]:
        """The CSV row."""
        return {
            "task": self.task, "budget": self.budget, "mode_a": self.modes[0],
            "mode_b": self.modes[1], "strategies": self.strategies, "seeds_a": self.seeds[0],
            "seeds_b": self.seeds[1], "kendall_tau_mean_rank": self.tau_rank,
            "kendall_tau_test_mean": self.tau_test, "split_half_tau_a": self.halves[0],
            "split_half_tau_b": self.halves[1], "split_half_tau_across": self.halves[2],
        }  # fmt: skip


@dataclass(frozen=True)
class Suite:
    """Runs side by side: one row per strategy (``strategy``, ``mean_rank``, ``blocks``, then
    ``columns``), best mean rank first, the Friedman test over the (run, seed) blocks, and the
    agreement of every two modes that ran the same task and budget."""

    rows: list[dict[str, Any]]
    columns: list[str]
    friedman: Friedman | None
    agreements: list[Agreement] = field(default_factory=list)


SPLITS = 200  # random seed halves behind ``Agreement.halves``


def _budget(meta: Mapping[str, Any]) -> str:
    """A run's budget as the suite names it: seconds, else full trainings' worth of epochs."""
    if meta.get("budget_seconds"):
        return f"{meta['budget_seconds']:g} s"
    return f"{meta['budget_epochs'] / meta['max_epochs']:g}"


def mode_agreement(runs: list[str], views: list[RunView]) -> list[Agreement]:
    """``Agreement`` of every two runs (in ``runs`` order) of one task and budget whose modes
    differ."""
    from mfnas.replay.modes import mode_of  # as the leaderboard does: the modes load replays

    found = []
    for (a, view_a), (b, view_b) in itertools.combinations(zip(runs, views, strict=True), 2):
        meta_a, meta_b = view_a.meta, view_b.meta
        same = (meta_a["task"], _budget(meta_a)) == (meta_b["task"], _budget(meta_b))
        modes = (mode_of(meta_a).name, mode_of(meta_b).name)  # "live" for stores before modes
        if not same or modes[0] == modes[1]:
            continue
        shared = [name for name in view_a.strategies if name in view_b.strategies]
        ranks, tests, blocks = [], [], []
        for view in (view_a, view_b):
            blocks.append(rank_blocks(view.blocks, shared, view.direction))
            ranks.append(
                blocks[-1].mean(axis=0) if len(blocks[-1]) else np.full(len(shared), math.nan)
            )
            tests.append([_nanmean([b[name] for b in view.blocks]) for name in shared])
        found.append(
            Agreement(
                task=meta_a["task"], budget=_budget(meta_a),
                modes=modes, runs=(a, b), strategies=len(shared),
                seeds=(len(view_a.blocks), len(view_b.blocks)),
                tau_rank=_kendall(*ranks), tau_test=_kendall(*tests), halves=_halves(*blocks),
            )
        )  # fmt: skip
    return found


def _halves(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean split-half taus (within ``a``, within ``b``, across) of two (seeds x strategies)
    rank arrays; see ``Agreement``."""
    rng = np.random.default_rng(0)
    half = min(len(a), len(b)) // 2
    if half < 1:
        return math.nan, math.nan, math.nan
    within: list[list[float]] = [[], []]
    across = []
    for _ in range(SPLITS):
        for taus, ranks in zip(within, (a, b), strict=True):
            order = rng.permutation(len(ranks))
            first, second = order[:half], order[half : 2 * half]
            taus.append(_kendall(ranks[first].mean(0), ranks[second].mean(0)))
        picked_a, picked_b = rng.permutation(len(a))[:half], rng.permutation(len(b))[:half]
        across.append(_kendall(a[picked_a].mean(0), b[picked_b].mean(0)))
    return _nanmean(within[0]), _nanmean(within[1]), _nanmean(across)


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _kendall(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b of two paired sequences (NaN pairs dropped; NaN if undefined)."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
    if len(pairs) < 2:
        return math.nan
    with warnings.catch_warnings():  # a constant side: tau is undefined, NaN says so
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.kendalltau(*zip(*pairs, strict=True)).statistic)


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
    return Suite(
        sorted(rows, key=lambda r: r["mean_rank"]),
        columns,
        friedman(ranks),
        mode_agreement(runs, views),
    )


def write_suite(out: Path, runs: list[str], command: str) -> list[dict[str, Any]]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` of runs side by side (whose list and
    specs ``suite.json`` keeps, written by whoever ran them); return the rows."""
    suite = suite_rows(out, runs)
    header = ["strategy", "mean_rank", "blocks", *suite.columns]
    with open(out / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(suite.rows)
    agreements = [agreement.row() for agreement in suite.agreements]
    if agreements:
        with open(out / "agreement.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(agreements[0]))
            writer.writeheader()
            writer.writerows(agreements)
    page = render(
        "suite.md",
        runs=runs,
        command=command,
        n_blocks=suite.rows[0]["blocks"] if suite.rows else 0,
        header=header,
        rows=[[row[c] for c in header] for row in suite.rows],
        friedman=suite.friedman,
        blocks_are="(run, seed) pairs",
        agreements=suite.agreements,
        splits=SPLITS,
    )
    (out / "leaderboard.md").write_text(page)
    return suite.rows
