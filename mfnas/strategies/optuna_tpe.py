"""``optuna-tpe``: Optuna's TPE sampler at full fidelity."""

from __future__ import annotations

from mfnas.strategies.base import TrialSpec
from mfnas.strategies.budget import full_trainings
from mfnas.strategies.optuna_adapter import OptunaStrategy
from mfnas.tasks.base import Result


class OptunaTPE(OptunaStrategy):
    """Multivariate, group-decomposed TPE; every trial trains for ``max_epochs``.

    Its random start is a quarter of the full trainings the budget affords (2..10), as SMAC's
    BO facade caps its initial design at a quarter of its trials.
    """

    name = "optuna-tpe"

    def _default_startup(self) -> int:
        return max(2, min(10, full_trainings(self.problem) // 4))

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.max_epochs:
            return None
        trial, config = self._new_trial()
        spec = self._spec(config, self.problem.max_epochs)
        self._running[spec.trial_id] = trial
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        trial = self._running.pop(spec.trial_id)
        if result is None:
            self._fail(trial)
        else:
            self.study.tell(trial, self.cost(result))
