"""The Strategy contract: ask for (config, epochs), be told the result."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.strategies.configs import sample_config
from mfnas.tasks.base import Result


@dataclass(frozen=True)
class PriorCurve:
    """A learning curve recorded before the run (validation only, never test): ``curve[e]``
    is the objective after epoch ``e + 1`` of training ``config`` (active values)."""

    config: dict[str, Any]
    curve: tuple[float, ...]


@dataclass(frozen=True)
class Problem:
    """What a strategy may know about the task: space, fidelity range, budget, direction,
    and ``prior``: curves of the same task recorded before the run (empty unless a run gives a
    strategy prior data; a strategy that uses them says so in its ``uses_prior``)."""

    space: ConfigurationSpace
    min_epochs: int
    max_epochs: int
    budget_epochs: int
    maximize: bool = True
    prior: tuple[PriorCurve, ...] = ()


@dataclass(frozen=True)
class TrialSpec:
    """One evaluation to run: train ``config`` for ``epochs`` epochs."""

    trial_id: int
    config: Configuration
    epochs: int


class Strategy(ABC):
    """Ask/tell search strategy.

    Contract:
    - ``ask(budget_left)`` returns a trial whose ``epochs`` fit in ``budget_left`` (the runner
      ends the run otherwise), or ``None`` when it has nothing to propose now; the runner ends
      the run when a strategy returns ``None`` with no trial pending.
    - Several trials may be pending at once and ``tell`` may arrive in any order.
    - ``tell`` receives results without test metrics; ``result is None`` means the trial crashed.
    - All randomness comes from ``self.rng`` (seeded from the run seed); never the global RNG.
    """

    name: str = "base"
    uses_prior: bool = False  # True for strategies that read ``problem.prior``

    def __init__(self, problem: Problem, seed: int) -> None:
        self.problem = problem
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._next_id = 0

    def _spec(self, config: Configuration, epochs: int) -> TrialSpec:
        """A new TrialSpec with the next trial id."""
        spec = TrialSpec(self._next_id, config, int(epochs))
        self._next_id += 1
        return spec

    def _sample(self) -> Configuration:
        """One configuration sampled uniformly from the space with this strategy's RNG."""
        return sample_config(self.problem.space, self.rng)

    def cost(self, result: Result) -> float:
        """The objective as a non-negative cost to minimise.

        Maximised objectives lie in [0, 1] (NDCG, accuracy), so their cost is ``1 - objective``;
        minimised ones (RMSE) are costs already. Positive costs suit SMAC's log-scale models.
        """
        return self.value_cost(result.objective)

    def value_cost(self, value: float) -> float:
        """One objective value (e.g. a point of a learning curve) as a cost, like ``cost``."""
        return 1.0 - value if self.problem.maximize else value

    def diagnostics(self) -> dict[str, Any]:
        """What the strategy wants kept about its own run (plain JSON types), read once when
        the study ends and stored with it, e.g. a predictor's quality. Empty by default."""
        return {}

    @abstractmethod
    def ask(self, budget_left: int) -> TrialSpec | None:
        """Propose the next trial, or None when there is nothing to run now."""

    @abstractmethod
    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        """Report a finished trial (``None`` when it crashed)."""
