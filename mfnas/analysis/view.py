"""One immutable view of a run's store, read once: what its leaderboard, plots, importance
model and report are all computed from.

``RunView.load(store)`` reads the store's metadata, records and study diagnostics once and
derives, per (strategy, seed) study, its incumbent and anytime trajectory; per seed, every
strategy's incumbent test score (the rank blocks); and per strategy the best-so-far curves on
a common grid of epochs spent. Nothing in the analysis reads the store again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from mfnas.analysis.stats import Friedman, best_so_far, friedman, rank_blocks
from mfnas.direction import Direction
from mfnas.store import Status, Store, TrialRecord, incumbent

GRID_POINTS = 200


@dataclass(frozen=True)
class SeedOutcome:
    """One (strategy, seed) study as read back from the store.

    ``events`` holds (epochs spent when it finished, validation objective) of every ``ok``
    full-fidelity evaluation, in finishing order: the study's anytime trajectory;
    ``timed_events`` the same against the study clock (seconds) when it finished.
    ``epochs_spent`` sums the epochs every evaluation trained (a continued one: only its new
    epochs); ``wall_seconds`` is when its last one ended.
    """

    strategy: str
    seed: int
    best: TrialRecord | None
    epochs_spent: int
    trials: int
    crashed: int
    wall_seconds: float
    events: tuple[tuple[int, float], ...]
    timed_events: tuple[tuple[float, float], ...] = ()

    def test_score(self, metric: str) -> float:
        """The incumbent's test ``metric``; NaN when the study has no incumbent."""
        best = self.best
        return best.test[metric] if best is not None and best.test else math.nan


def _events(records: list[TrialRecord], max_epochs: int) -> tuple[tuple[int, float], ...]:
    spent, events = 0, []
    for record in records:
        spent += record.charged_epochs
        if record.status is Status.OK and record.epochs >= max_epochs:
            events.append((spent, record.curve[-1]))
    return tuple(events)


def _timed_events(records: list[TrialRecord], max_epochs: int) -> tuple[tuple[float, float], ...]:
    full = [r for r in records if r.status is Status.OK and r.epochs >= max_epochs]
    return tuple((r.end, r.curve[-1]) for r in full)


def _outcomes(
    records: Sequence[TrialRecord], max_epochs: int, direction: Direction
) -> tuple[SeedOutcome, ...]:
    groups: dict[tuple[str, int], list[TrialRecord]] = {}
    for record in records:
        groups.setdefault((record.strategy, record.seed), []).append(record)
    return tuple(
        SeedOutcome(
            strategy=strategy,
            seed=seed,
            best=incumbent(group, max_epochs, direction),
            epochs_spent=sum(r.charged_epochs for r in group),
            trials=len(group),
            crashed=sum(r.status is Status.CRASHED for r in group),
            wall_seconds=max(r.end for r in group),
            events=_events(group, max_epochs),
            timed_events=_timed_events(group, max_epochs),
        )
        for (strategy, seed), group in groups.items()
    )


def seed_blocks(outcomes: Sequence[SeedOutcome], metric: str) -> list[dict[str, float]]:
    """Per seed (ascending), every strategy's incumbent test score; NaN where it has none."""
    names = list(dict.fromkeys(o.strategy for o in outcomes))
    blocks: dict[int, dict[str, float]] = {}
    for o in outcomes:
        blocks.setdefault(o.seed, dict.fromkeys(names, math.nan))[o.strategy] = o.test_score(metric)
    return [blocks[seed] for seed in sorted(blocks)]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class RunView:
    """What one run's store holds, read once and never changed (arrays are read-only).

    ``outcomes`` are the (strategy, seed) studies in first-seen order; ``strategies`` their
    names in that order; ``blocks`` per seed (ascending) each strategy's incumbent test score
    (NaN: none); ``ranks`` the (seeds x ``strategies``) ranks of those scores in the task's
    direction (1 = best, ties share, NaN last); ``grid`` the epochs spent (0..budget) at which
    ``curves`` holds, per strategy, a (seeds x grid) array of the best full-fidelity validation
    score so far (NaN before a seed's first one); ``seconds_grid`` and ``seconds_curves`` the
    same against the study clock (0..the seconds budget, or the longest study).
    """

    meta: Mapping[str, Any]
    records: tuple[TrialRecord, ...]
    diagnostics: Mapping[tuple[str, int], Mapping[str, Any]]
    outcomes: tuple[SeedOutcome, ...]
    strategies: tuple[str, ...]
    blocks: tuple[Mapping[str, float], ...]
    ranks: np.ndarray
    grid: np.ndarray
    curves: Mapping[str, np.ndarray]
    seconds_grid: np.ndarray
    seconds_curves: Mapping[str, np.ndarray]

    @classmethod
    def load(cls, store: Store) -> RunView:
        """The view of ``store``: its metadata, records and diagnostics, each read once."""
        return cls.build(store.meta(), store.records(), store.diagnostics())

    @classmethod
    def build(
        cls,
        meta: Mapping[str, Any],
        records: Sequence[TrialRecord],
        diagnostics: Mapping[tuple[str, int], Mapping[str, Any]],
    ) -> RunView:
        """The view of a run given as its metadata (``task``, ``metric``, ``maximize``,
        ``max_epochs``, ``budget_epochs``, ...), records in insertion order and diagnostics."""
        direction = Direction.of(meta["maximize"])
        outcomes = _outcomes(records, meta["max_epochs"], direction)
        strategies = tuple(dict.fromkeys(o.strategy for o in outcomes))
        blocks = seed_blocks(outcomes, meta["metric"])
        spent = max((o.epochs_spent for o in outcomes), default=0)
        grid = np.unique(np.linspace(0, max(meta["budget_epochs"], spent), GRID_POINTS + 1).round())
        longest = max((o.wall_seconds for o in outcomes), default=0.0)
        # a trial stopped by a seconds budget ends after it: the grid reaches the last end
        seconds_grid = np.linspace(
            0.0, max(meta.get("budget_seconds") or 0.0, longest), GRID_POINTS + 1
        )

        def curves_on(grid: np.ndarray, timed: bool) -> dict[str, np.ndarray]:
            return {
                name: _frozen(
                    np.array([best_so_far(o.timed_events if timed else o.events, grid, direction)
                              for o in outcomes if o.strategy == name])
                )
                for name in strategies
            }  # fmt: skip

        return cls(
            meta=MappingProxyType(dict(meta)),
            records=tuple(records),
            diagnostics=MappingProxyType(dict(diagnostics)),
            outcomes=outcomes,
            strategies=strategies,
            blocks=tuple(MappingProxyType(b) for b in blocks),
            ranks=_frozen(rank_blocks(blocks, strategies, direction)),
            grid=_frozen(grid),
            curves=MappingProxyType(curves_on(grid, timed=False)),
            seconds_grid=_frozen(seconds_grid),
            seconds_curves=MappingProxyType(curves_on(seconds_grid, timed=True)),
        )

    @property
    def budget_curves(self) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        """The grid and curves in the budget's own unit: seconds for a budget in seconds,
        else epochs spent (what ``speedup_vs_random`` compares)."""
        if self.meta.get("budget_seconds"):
            return self.seconds_grid, self.seconds_curves
        return self.grid, self.curves

    @property
    def direction(self) -> Direction:
        """Which way the objective is better."""
        return Direction.of(self.meta["maximize"])

    @property
    def metric(self) -> str:
        """The objective's metric name (validation selects, test reports)."""
        return self.meta["metric"]

    @property
    def space(self) -> ConfigurationSpace:
        """The run's search space, as recorded in its metadata."""
        return ConfigurationSpace.from_serialized_dict(self.meta["space"])

    @cached_property
    def by_strategy(self) -> Mapping[str, tuple[SeedOutcome, ...]]:
        """Each strategy's studies, strategies and seeds in first-seen order."""
        return MappingProxyType(
            {s: tuple(o for o in self.outcomes if o.strategy == s) for s in self.strategies}
        )

    @cached_property
    def mean_ranks(self) -> Mapping[str, float]:
        """Each strategy's mean rank over the seed blocks (NaN without blocks)."""
        means = self.ranks.mean(axis=0) if len(self.ranks) else [math.nan] * len(self.strategies)
        return MappingProxyType(dict(zip(self.strategies, map(float, means), strict=True)))

    @cached_property
    def friedman(self) -> Friedman | None:
        """The Friedman test over the seed blocks and Nemenyi's CD; None where undefined."""
        return friedman(self.ranks)

    @cached_property
    def best_outcome(self) -> SeedOutcome | None:
        """The study whose incumbent has the best validation score overall (first on ties)."""
        found = [o for o in self.outcomes if o.best is not None]
        return self.direction.best(found, key=lambda o: o.best.curve[-1]) if found else None


def seed_outcomes(store: Store) -> list[SeedOutcome]:
    """Every (strategy, seed) study in ``store`` with its incumbent, in first-seen order (for
    scripts that need only these; the analysis itself works on a ``RunView``)."""
    return list(RunView.load(store).outcomes)
