"""``grid``: a conditional grid over the space, visited in a seeded random order, full fidelity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
)
from ConfigSpace.exceptions import ForbiddenValueError
from ConfigSpace.hyperparameters import Hyperparameter

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import full_trainings
from mfnas.strategies.configs import is_active, plain
from mfnas.tasks.base import Result

MAX_LEVELS = 64  # numeric resolution stops growing here, however large the budget


def levels(hp: Hyperparameter, k: int) -> list[Any]:
    """The grid values of ``hp``: every value of a categorical, ordinal or constant; ``k``
    cell centres of a numeric range on its own (log) scale, integers rounded and deduplicated.
    """
    if isinstance(hp, CategoricalHyperparameter):
        return [plain(v) for v in hp.choices]
    if isinstance(hp, OrdinalHyperparameter):
        return [plain(v) for v in hp.sequence]
    if isinstance(hp, Constant):
        return [plain(hp.value)]
    centres = (np.arange(k) + 0.5) / k
    values = [plain(v) for v in hp.to_value(centres)]
    return list(dict.fromkeys(values))  # ordered, integers may collide


def grid_points(space: ConfigurationSpace, k: int) -> Iterator[dict[str, Any]]:
    """Every point of the conditional grid with ``k`` levels per numeric hyperparameter.

    Hyperparameters are taken in topological order and only when active given the values
    already chosen, so each branch of a categorical parent gets its own sub-grid over the
    hyperparameters that branch activates. Points are plain dicts of active values.
    """
    names = list(space.keys())

    def walk(i: int, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if i == len(names):
            yield dict(values)
            return
        name = names[i]
        if not is_active(space, name, values):
            yield from walk(i + 1, values)
            return
        for value in levels(space[name], k):
            values[name] = value
            yield from walk(i + 1, values)
        del values[name]

    return walk(0, {})


def resolution(space: ConfigurationSpace, n_points: int) -> int:
    """The smallest ``k`` whose grid has at least ``n_points`` points, so the budget is spent
    on the coarsest grid that fills it (or ``MAX_LEVELS`` / the finest a discrete space has)."""
    previous = -1
    for k in range(1, MAX_LEVELS + 1):
        size = sum(1 for _ in zip(range(n_points), grid_points(space, k), strict=False))
        if size >= n_points:
            return k
        if size == previous:  # every hyperparameter is fully enumerated already
            return k - 1
        previous = size
    return MAX_LEVELS


class GridSearch(Strategy):
    """Grid search at full fidelity whose resolution follows the budget.

    With ``n = budget_epochs // max_epochs`` full trainings affordable, the grid has the
    smallest numeric resolution ``k`` giving at least ``n`` points; its points are visited in
    an order shuffled by the seed (so a grid larger than the budget is sampled without
    repetition), each trained for ``max_epochs``. Points violating a forbidden clause are
    skipped. The strategy stops when the grid or the budget is exhausted.
    """

    name = "grid"

    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self.k: int | None = None
        self._points: list[dict[str, Any]] = []
        self._order: list[int] = []

    def _build(self) -> None:
        self.k = resolution(self.problem.space, full_trainings(self.problem))
        self._points = list(grid_points(self.problem.space, self.k))
        self._order = [int(i) for i in self.rng.permutation(len(self._points))][::-1]

    @property
    def points(self) -> list[dict[str, Any]]:
        """Every point of this run's grid, in enumeration order."""
        if self.k is None:
            self._build()
        return self._points

    def _next_config(self) -> Configuration | None:
        while self._order:
            config = Configuration(self.problem.space, values=self._points[self._order.pop()])
            try:
                config.check_valid_configuration()
            except ForbiddenValueError:
                continue
            return config
        return None

    def ask(self, budget_left: int) -> TrialSpec | None:
        if self.k is None:
            self._build()
        if budget_left < self.problem.max_epochs:
            return None
        config = self._next_config()
        return None if config is None else self._spec(config, self.problem.max_epochs)

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        """Grid search learns nothing from results."""
