"""``hierarchical``: choose the architecture family on short trainings, then tune it fully."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ConfigSpace import Configuration

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import StagedBudget, split_budget
from mfnas.strategies.configs import architecture_parameter, plain, sample_config
from mfnas.strategies.evolution import AgingEvolution, default_population
from mfnas.tasks.base import Result


class Hierarchical(Strategy):
    """Architecture first, then hyperparameters.

    The families are the values of the space's architecture categorical
    (``configs.architecture_parameter``: ``model`` in recsys, ``arch`` in toy); a space
    without one is a single family.

    - Stage 1 spends ``split_budget(problem, family_fraction).first_epochs`` on short
      trainings (``max(min_epochs, max_epochs // 9)`` epochs) of random configurations, the
      families taken in turn (a seeded order) so each gets as many as the budget allows.
    - Once every stage-1 result is in (``ask`` returns None while some are pending), the
      ``n_families`` families with the best early score (best of the family, cost-wise;
      families never screened or only crashed rank last) are chosen.
    - Stage 2 spends the rest, at least one full training, at ``max_epochs`` on aging
      evolution restricted to the chosen families; its first proposals are the chosen
      families' stage-1 configurations, best first.
    """

    name = "hierarchical"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        family_fraction: float = 1 / 3,
        n_families: int = 1,
    ) -> None:
        super().__init__(problem, seed)
        self.family_fraction = family_fraction
        self.n_families = n_families
        self.short_epochs = max(problem.min_epochs, problem.max_epochs // 9, 1)
        self.parameter = architecture_parameter(problem.space)
        self.families: list[Any] = (
            [plain(v) for v in problem.space[self.parameter].choices] if self.parameter else []
        )
        self._turns: list[Any] = []
        self._short_asked = 0
        self._pending: set[int] = set()
        self._screened: list[tuple[float, int, Configuration]] = []  # (cost, trial id, config)
        self.chosen: list[Any] | None = None
        self._stage2: AgingEvolution | None = None

    @cached_property
    def plan(self) -> StagedBudget:
        """The budget split (computed when work starts)."""
        return split_budget(self.problem, self.family_fraction)

    @property
    def n_short(self) -> int:
        """How many short trainings stage 1 affords."""
        return self.plan.first_epochs // self.short_epochs

    def _family_of(self, config: Configuration) -> Any:
        return plain(config[self.parameter]) if self.parameter else None

    def _next_family(self) -> Any:
        if not self._turns:
            self._turns = [self.families[int(i)] for i in self.rng.permutation(len(self.families))]
        return self._turns.pop()

    def _short_config(self) -> Configuration:
        if not self.families:
            return sample_config(self.problem.space, self.rng)
        fixed = {self.parameter: [self._next_family()]}
        return sample_config(self.problem.space, self.rng, fixed)

    def _choose(self) -> AgingEvolution:
        best: dict[Any, tuple[float, int]] = {}
        for cost, trial_id, config in self._screened:
            family = self._family_of(config)
            best[family] = min(best.get(family, (cost, trial_id)), (cost, trial_id))
        worst = (float("inf"), 2**63)
        order = sorted(self.families, key=lambda f: best.get(f, worst))
        self.chosen = order[: max(1, self.n_families)]
        seeds = [
            config
            for _, _, config in sorted(self._screened, key=lambda t: t[:2])
            if not self.families or self._family_of(config) in self.chosen
        ]
        population, sample = default_population(self.plan.n_full)
        return AgingEvolution(
            self.problem.space,
            self.rng,
            population,
            sample,
            fixed={self.parameter: self.chosen} if self.families else None,
            seeds=seeds[:population],
        )

    def ask(self, budget_left: int) -> TrialSpec | None:
        if self._short_asked < self.n_short:
            if self.short_epochs > budget_left:
                return None
            self._short_asked += 1
            spec = self._spec(self._short_config(), self.short_epochs)
            self._pending.add(spec.trial_id)
            return spec
        if self._pending:
            return None  # the family is chosen once every stage-1 result is in
        if self._stage2 is None:
            self._stage2 = self._choose()
        if self.problem.max_epochs > budget_left:
            return None
        return self._spec(self._stage2.propose(), self.problem.max_epochs)

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        cost = None if result is None else self.cost(result)
        if spec.trial_id in self._pending:
            self._pending.discard(spec.trial_id)
            if cost is not None:
                self._screened.append((cost, spec.trial_id, spec.config))
        elif self._stage2 is not None:
            self._stage2.observe(spec.config, cost)
