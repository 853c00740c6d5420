"""``random``: random search at full fidelity."""

from __future__ import annotations

from mfnas.strategies.base import Strategy, TrialSpec
from mfnas.tasks.base import Result


class RandomSearch(Strategy):
    """Sample configurations uniformly (conditions respected) and train each to max epochs."""

    name = "random"

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.max_epochs:
            return None
        return self._spec(self._sample(), self.problem.max_epochs)

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        """Random search learns nothing from results."""
