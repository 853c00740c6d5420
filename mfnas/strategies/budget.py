"""Budget planning shared by strategies: full trainings afforded, two-stage splits, and the
guard that makes a multi-fidelity search end with a full-fidelity evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ConfigSpace import Configuration

from mfnas.strategies.base import Problem, TrialSpec
from mfnas.tasks.base import Result


def full_trainings(problem: Problem) -> int:
    """How many full-fidelity trainings the whole budget affords (at least 1)."""
    return max(1, problem.budget_epochs // problem.max_epochs)


@dataclass(frozen=True)
class StagedBudget:
    """A budget split into a low-fidelity first stage and ``n_full`` full trainings.

    ``first_epochs + n_full * max_epochs <= budget_epochs`` always holds; the full trainings
    get at least one slot, so the first stage is empty when the budget affords only one.
    """

    first_epochs: int
    n_full: int


def split_budget(problem: Problem, first_fraction: float) -> StagedBudget:
    """Give about ``first_fraction`` of the budget to the first stage, the rest (rounded down
    to whole full trainings, at least one) to full trainings; the first stage takes what is
    left over from that rounding."""
    if not 0.0 <= first_fraction < 1.0:
        raise ValueError(f"the first stage's fraction must be in [0, 1), got {first_fraction}")
    afford = problem.budget_epochs // problem.max_epochs
    n_full = max(1, math.floor(round((1.0 - first_fraction) * afford, 9)))  # 0.2*10 is 2
    first = max(0, problem.budget_epochs - n_full * problem.max_epochs)
    return StagedBudget(first_epochs=first, n_full=n_full)


class FullFidelityGuard:
    """Makes a multi-fidelity strategy spend its last affordable full training on one.

    A Hyperband bracket reaches full fidelity only after several budgets' worth of low-fidelity
    trainings, so a small budget could end without any full-fidelity evaluation and hence
    without an incumbent. ``intercept`` is called with each proposal: while no full-fidelity
    trial has succeeded or is pending, a low-fidelity proposal that would leave less than one
    full training is replaced by a full training of the best configuration seen so far (highest
    fidelity first, then lowest cost), or of the proposed configuration when none succeeded.

    Protocol: ``intercept`` with each proposal; when it says so, ``full_training`` builds the
    replacing trial (the strategy keeps its proposal for later). ``started`` with every trial
    the strategy returns, ``finished`` with every result; ``finished`` is True for the guard's
    own trials, which the strategy does not tell its library.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self._full_pending: set[int] = set()
        self._full_ok = 0
        self._best: tuple[tuple[int, float], Configuration] | None = None
        self._own: set[int] = set()  # ids of the full trainings the guard put in

    def intercept(self, epochs: int, budget_left: int) -> bool:
        """True when a full training should run now instead of a proposal of ``epochs``."""
        max_epochs = self.problem.max_epochs
        if self._full_ok or self._full_pending or epochs >= max_epochs:
            return False
        return budget_left - epochs < max_epochs <= budget_left

    def full_training(
        self, make_spec: Callable[[Configuration, int], TrialSpec], proposed: Configuration
    ) -> TrialSpec:
        """The full training to run instead of ``proposed`` when ``intercept`` said so, built
        by the strategy's ``make_spec(config, epochs)``: of the best configuration seen so far,
        else of ``proposed``."""
        config = self._best[1] if self._best is not None else proposed
        spec = make_spec(config, self.problem.max_epochs)
        self._own.add(spec.trial_id)
        return spec

    def started(self, spec: TrialSpec) -> None:
        """Note a proposed trial (any fidelity)."""
        if spec.epochs >= self.problem.max_epochs:
            self._full_pending.add(spec.trial_id)

    def finished(self, spec: TrialSpec, result: Result | None, cost: float | None) -> bool:
        """Note a finished trial and its cost (``None`` when it crashed); True when the trial
        was one of the guard's own full trainings."""
        if spec.trial_id in self._full_pending:
            self._full_pending.discard(spec.trial_id)
            self._full_ok += result is not None
        if result is not None and cost is not None:
            key = (spec.epochs, -cost)
            if self._best is None or key > self._best[0]:
                self._best = (key, spec.config)
        own = spec.trial_id in self._own
        self._own.discard(spec.trial_id)
        return own
