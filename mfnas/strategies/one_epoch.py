"""``one-epoch``: screen many random configurations for one epoch, fully train the top few.

After "Is One Epoch All You Need For Multi-Fidelity Hyperparameter Optimization?"
(Egele et al., 2023): a one-epoch training ranks configurations well enough to pick the few
worth a full training.
"""

from __future__ import annotations

from functools import cached_property

from ConfigSpace import Configuration

from mfnas.spaces import config_key
from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import StagedBudget, split_budget
from mfnas.tasks.base import Result


class OneEpoch(Strategy):
    """Two stages: screening at ``screen_epochs`` (1, or the task's minimum), then full trainings.

    The budget is split by ``split_budget(problem, screen_fraction)``: the full trainings get
    ``n_full = max(1, floor((1 - screen_fraction) * budget_epochs / max_epochs))`` slots and
    screening gets every other epoch (``budget_epochs - n_full * max_epochs``), so the final
    trainings always fit. Only once every screening trial it asked for has been told does it
    pick the ``n_full`` best distinct screened configurations (crashed ones excluded, random
    configurations filling any gap) and train each for ``max_epochs``; while screening results
    are pending between the stages, ``ask`` returns None.
    """

    name = "one-epoch"

    def __init__(self, problem: Problem, seed: int, screen_fraction: float = 0.5) -> None:
        super().__init__(problem, seed)
        self.screen_fraction = screen_fraction
        self.screen_epochs = max(1, problem.min_epochs)
        self._screen_asked = 0
        self._pending: set[int] = set()
        self._screened: list[tuple[float, int, Configuration]] = []  # (cost, trial id, config)
        self._finals: list[Configuration] | None = None

    @cached_property
    def plan(self) -> StagedBudget:
        """The budget split (computed when work starts)."""
        return split_budget(self.problem, self.screen_fraction)

    @property
    def n_screen(self) -> int:
        """How many screening trainings the first stage affords."""
        return self.plan.first_epochs // self.screen_epochs

    def _choose_finals(self) -> list[Configuration]:
        finals: dict[str, Configuration] = {}
        for _, _, config in sorted(self._screened, key=lambda t: t[:2]):
            finals.setdefault(config_key(config), config)
        chosen = list(finals.values())[: self.plan.n_full]
        while len(chosen) < self.plan.n_full:
            chosen.append(self._sample())
        return chosen[::-1]  # popped from the end: best first

    def ask(self, budget_left: int) -> TrialSpec | None:
        if self._screen_asked < self.n_screen:
            if self.screen_epochs > budget_left:
                return None
            self._screen_asked += 1
            spec = self._spec(self._sample(), self.screen_epochs)
            self._pending.add(spec.trial_id)
            return spec
        if self._pending:
            return None  # the top few are chosen once every screening result is in
        if self._finals is None:
            self._finals = self._choose_finals()
        if not self._finals or self.problem.max_epochs > budget_left:
            return None
        return self._spec(self._finals.pop(), self.problem.max_epochs)

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        if spec.trial_id not in self._pending:
            return  # a final training: nothing left to decide
        self._pending.discard(spec.trial_id)
        if result is not None:
            self._screened.append((self.cost(result), spec.trial_id, spec.config))
