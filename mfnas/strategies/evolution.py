"""``evolution``: regularised (aging) evolution, Real et al. 2019, at full fidelity.

The operators keep every child a valid configuration of a conditional space: ``mutate``
resamples one active hyperparameter and ``crossover`` mixes two parents' values, and both
finish with ``configs.repair`` (children a changed parent activates get sampled values,
children it deactivates are dropped).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.exceptions import ForbiddenValueError

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import full_trainings
from mfnas.strategies.configs import plain, repair, sample_config, sample_value
from mfnas.tasks.base import Result

Restriction = Mapping[str, Sequence[Any]]
_RETRIES = 20  # draws before an operator gives up on a forbidden clause and samples afresh


def mutate(
    config: Configuration, rng: np.random.Generator, fixed: Restriction | None = None
) -> Configuration:
    """``config`` with one active hyperparameter resampled to a different value (when it has
    one), conditions repaired. ``fixed`` names hyperparameters restricted to listed values."""
    space = config.config_space
    values = {k: plain(v) for k, v in dict(config).items()}
    fixed = fixed or {}
    names = [n for n in values if n not in fixed or len(fixed[n]) > 1]
    for _ in range(_RETRIES):
        if not names:
            break
        name = names[int(rng.integers(len(names)))]
        new = dict(values)
        if name in fixed:
            others = [plain(v) for v in fixed[name] if plain(v) != values[name]]
            new[name] = others[int(rng.integers(len(others)))]
        else:
            new[name] = _different_value(space, name, values[name], rng)
        try:
            return repair(space, new, rng)
        except ForbiddenValueError:
            continue
    return sample_config(space, rng, fixed)


def _different_value(
    space: ConfigurationSpace, name: str, old: Any, rng: np.random.Generator
) -> Any:
    """A fresh value of ``name`` from its distribution, different from ``old`` when possible."""
    hp = space[name]
    value = old
    for _ in range(_RETRIES):
        value = sample_value(hp, rng)
        if value != old:
            break
    return value


def crossover(a: Configuration, b: Configuration, rng: np.random.Generator) -> Configuration:
    """Uniform crossover: each hyperparameter's value from either parent (coin flip), the
    result repaired to the space's conditions (a value the chosen branch needs but neither
    parent has is sampled)."""
    space = a.config_space
    va, vb = dict(a), dict(b)
    for _ in range(_RETRIES):
        child = {}
        for name in space:
            pick, other = (va, vb) if rng.random() < 0.5 else (vb, va)
            if name in pick:
                child[name] = plain(pick[name])
            elif name in other:
                child[name] = plain(other[name])
        try:
            return repair(space, child, rng)
        except ForbiddenValueError:
            continue
    return a


class AgingEvolution:
    """The regularised-evolution loop, independent of fidelity and budget.

    ``propose`` returns a random configuration until ``population_size`` have been proposed
    (and whenever the population is still empty, e.g. all pending or crashed); afterwards a
    child of tournament winners: with probability ``crossover_prob`` the uniform crossover of
    two winners, then mutated. A tournament samples ``sample_size`` members without
    replacement and keeps the lowest cost. ``observe`` adds a finished member and ages out the
    oldest beyond ``population_size``; crashed members (cost None) never join. ``seeds`` are
    proposed first (e.g. promising configurations from an earlier stage).
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        rng: np.random.Generator,
        population_size: int,
        sample_size: int,
        crossover_prob: float = 0.5,
        fixed: Restriction | None = None,
        seeds: Sequence[Configuration] = (),
    ) -> None:
        self.space = space
        self.rng = rng
        self.population_size = max(1, population_size)
        self.sample_size = max(1, min(sample_size, self.population_size))
        self.crossover_prob = crossover_prob
        self.fixed = fixed
        self.population: deque[tuple[Configuration, float]] = deque()
        self._seeds = list(seeds)[::-1]
        self._proposed = 0

    def _tournament(self) -> Configuration:
        size = min(self.sample_size, len(self.population))
        picks = self.rng.choice(len(self.population), size=size, replace=False)
        return min((self.population[int(i)] for i in picks), key=lambda m: m[1])[0]

    def propose(self) -> Configuration:
        """The next configuration to evaluate."""
        self._proposed += 1
        if self._seeds:
            return self._seeds.pop()
        if self._proposed <= self.population_size or not self.population:
            return sample_config(self.space, self.rng, self.fixed)
        parent = self._tournament()
        if self.rng.random() < self.crossover_prob:
            parent = crossover(parent, self._tournament(), self.rng)
        return mutate(parent, self.rng, self.fixed)

    def observe(self, config: Configuration, cost: float | None) -> None:
        """Add an evaluated member (``cost`` None: crashed, not added); age out the oldest."""
        if cost is None:
            return
        self.population.append((config, cost))
        while len(self.population) > self.population_size:
            self.population.popleft()


def default_population(n_trials: int) -> tuple[int, int]:
    """(population size, tournament size) for ``n_trials`` evaluations: a population of about
    a third of them (2..50) so evolution gets to act on a small budget, tournaments a quarter
    of the population (at least 2)."""
    population = min(50, max(2, n_trials // 3))
    return population, max(2, population // 4)


class RegularizedEvolution(Strategy):
    """Aging evolution over full trainings.

    ``population_size`` and ``sample_size`` default to ``default_population`` of the number of
    full trainings the budget affords (Real et al. used P=100, S=25 for 20k trainings).
    """

    name = "evolution"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        population_size: int | None = None,
        sample_size: int | None = None,
        crossover_prob: float = 0.5,
    ) -> None:
        super().__init__(problem, seed)
        self.population_size = population_size
        self.sample_size = sample_size
        self.crossover_prob = crossover_prob
        self._evolution: AgingEvolution | None = None

    @property
    def evolution(self) -> AgingEvolution:
        """The evolution loop (built when work starts)."""
        if self._evolution is None:
            population, sample = default_population(full_trainings(self.problem))
            self._evolution = AgingEvolution(
                self.problem.space,
                self.rng,
                self.population_size or population,
                self.sample_size or sample,
                self.crossover_prob,
            )
        return self._evolution

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.max_epochs:
            return None
        return self._spec(self.evolution.propose(), self.problem.max_epochs)

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        self.evolution.observe(spec.config, None if result is None else self.cost(result))
