"""``smac-hb``: SMAC's multi-fidelity facade (model-based Hyperband, BOHB-style) over epochs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from smac import MultiFidelityFacade, Scenario
from smac.model.random_forest import RandomForest
from smac.runhistory import StatusType, TrialInfo, TrialValue

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.tasks.base import Result


def _never_called(config, seed: int = 0, budget: float = 0.0) -> float:
    """SMAC requires a target function; mfnas drives SMAC through ask/tell only."""
    raise RuntimeError("mfnas evaluates trials itself; SMAC's target function is unused")


class SmacHyperband(Strategy):
    """SMAC ``MultiFidelityFacade`` with Hyperband (eta=3) over [min_epochs, max_epochs].

    SMAC proposes (config, budget); the budget is rounded to whole epochs. Its random forest
    runs with ``n_jobs=1`` (cheaper on few cores) and SMAC never touches the root logger.
    When a proposed budget does not fit what is left, the strategy stops proposing.
    """

    name = "smac-hb"
    eta = 3

    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self._workdir = tempfile.TemporaryDirectory(prefix="mfnas-smac-")
        scenario = Scenario(
            problem.space,
            deterministic=True,
            n_trials=10**6,
            min_budget=problem.min_epochs,
            max_budget=problem.max_epochs,
            seed=seed,
            output_directory=Path(self._workdir.name) / "smac",
        )
        self._smac = MultiFidelityFacade(
            scenario,
            _never_called,
            model=RandomForest(problem.space, log_y=True, n_jobs=1, seed=seed),
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=self.eta),
            overwrite=True,
            logging_level=False,
        )
        self._infos: dict[int, TrialInfo] = {}

    def ask(self, budget_left: int) -> TrialSpec | None:
        info = self._smac.ask()
        epochs = round(info.budget) if info.budget is not None else self.problem.max_epochs
        if epochs > budget_left:
            return None
        spec = self._spec(info.config, epochs)
        self._infos[spec.trial_id] = info
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        info = self._infos.pop(spec.trial_id)
        if result is None:
            value = TrialValue(cost=float("inf"), status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=self.cost(result), time=result.seconds)
        self._smac.tell(info, value, save=False)
