"""The shared SMAC adapter: a SMAC facade driven through ask/tell behind the Strategy contract.

Subclasses name the facade class (``facade``), the components they override (``_components``,
as a SMAC facade is a bundle of components) and whether the scenario spans a fidelity range
(``multi_fidelity``). The adapter gives each run its own temporary output directory
(``overwrite=True``), never lets SMAC touch the root logger (``logging_level=False``), and
builds random forests with ``n_jobs=1`` (cheaper on few cores). Costs come from
``Strategy.cost``; crashed trials are told to SMAC as ``CRASHED`` with the worst cost known
(see ``crash_cost``): an infinite cost would turn SMAC's log-scaled model targets into NaN.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any, ClassVar

from smac import Scenario
from smac.facade import AbstractFacade
from smac.model.random_forest import RandomForest
from smac.runhistory import StatusType, TrialInfo, TrialValue

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import FullFidelityGuard, full_trainings
from mfnas.tasks.base import Result


def _never_called(config, seed: int = 0) -> float:
    """SMAC requires a target function; mfnas drives SMAC through ask/tell only."""
    raise RuntimeError("mfnas evaluates trials itself; SMAC's target function is unused")


def _never_called_mf(config, seed: int = 0, budget: float = 0.0) -> float:
    """The multi-fidelity twin of ``_never_called`` (SMAC checks for a ``budget`` argument)."""
    return _never_called(config, seed)


class SmacStrategy(Strategy):
    """Base of the SMAC strategies.

    SMAC proposes (config, budget); a budget is rounded to whole epochs (full fidelity when
    the facade has none). A proposal that does not fit ``budget_left`` is kept for a later ask
    and the strategy proposes nothing now. Multi-fidelity facades also run through a
    ``FullFidelityGuard``: the full training it inserts is not told to SMAC, and the SMAC
    proposal it displaced is kept for the next ask.

    Reproducibility: the same seed gives the same trials within one process. Across processes
    the model-based facades (``smac-bo``, ``smac-hb``; not ``hyperband``) also need the same
    ``PYTHONHASHSEED``: their acquisition search depends on Python's hash randomisation, so set
    it when comparing runs made by separate commands.
    """

    facade: ClassVar[type[AbstractFacade]]
    multi_fidelity: ClassVar[bool] = False

    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self._workdir = tempfile.TemporaryDirectory(prefix="mfnas-smac-")
        fidelity = (
            {"min_budget": problem.min_epochs, "max_budget": problem.max_epochs}
            if self.multi_fidelity
            else {}
        )
        self.scenario = Scenario(
            problem.space,
            deterministic=True,
            n_trials=self._n_trials(),
            seed=seed,
            output_directory=Path(self._workdir.name) / "smac",
            **fidelity,
        )
        self._smac = self.facade(
            self.scenario,
            _never_called_mf if self.multi_fidelity else _never_called,
            overwrite=True,
            logging_level=False,
            **self._components(self.scenario),
        )
        self._infos: dict[int, TrialInfo] = {}  # mfnas trial id -> SMAC's trial
        self._deferred: list[TrialInfo] = []
        self._guard = FullFidelityGuard(problem)
        self._worst = float("-inf")

    def _n_trials(self) -> int:
        """SMAC's trial limit; it caps the initial design at a quarter of it (BO facades)."""
        return full_trainings(self.problem) if not self.multi_fidelity else 10**6

    def crash_cost(self) -> float:
        """The cost told for a crashed trial: the worst a maximised objective in [0, 1] can
        cost (1), or for a minimised one the worst cost seen so far (1 before any)."""
        if self.problem.maximize:
            return 1.0
        return self._worst if self._worst > float("-inf") else 1.0

    def _forest(self) -> RandomForest:
        """SMAC's random forest with log-scaled costs, a single job, and a leaf cap that cannot
        bind within the budget.

        SMAC's default cap (2**20 leaves) makes scikit-learn allocate about a million nodes
        per tree on every refit, most of a refit's time on small data. A tree has at most one
        leaf per observation and SMAC observes at most ``budget_epochs // min_epochs`` trials,
        so a cap above that leaves every fitted tree exactly as it was, only faster.
        """
        max_trials = self.problem.budget_epochs // max(1, self.problem.min_epochs)
        return RandomForest(
            self.problem.space,
            log_y=True,
            n_jobs=1,
            seed=self.seed,
            max_leaf_nodes=max(2**10, 2 * max_trials),
        )

    def _components(self, scenario: Scenario) -> dict[str, Any]:
        """The facade components this strategy overrides (keyword arguments of the facade)."""
        return {}

    def ask(self, budget_left: int) -> TrialSpec | None:
        smallest = self.problem.min_epochs if self.multi_fidelity else self.problem.max_epochs
        if budget_left < smallest:
            return None  # nothing fits: do not make SMAC fit its model for nothing
        info = self._deferred.pop(0) if self._deferred else self._smac_ask()
        epochs = round(info.budget) if info.budget is not None else self.problem.max_epochs
        if self._guard.intercept(epochs, budget_left):
            self._deferred.insert(0, info)
            spec = self._guard.full_training(self._spec, info.config)
        elif epochs > budget_left:
            self._deferred.insert(0, info)
            return None
        else:
            spec = self._spec(info.config, epochs)
            self._infos[spec.trial_id] = info
        self._guard.started(spec)
        return spec

    def _smac_ask(self) -> TrialInfo:
        """SMAC's next trial, without the numpy warnings of its local search's debug statistics
        (a mean over no timings when every local search ends at once)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
            warnings.filterwarnings("ignore", "invalid value encountered in scalar divide")
            return self._smac.ask()

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        cost = self.cost(result) if result is not None else None
        if cost is not None:
            self._worst = max(self._worst, cost)
        if self._guard.finished(spec, result, cost):
            return
        info = self._infos.pop(spec.trial_id)
        if result is None:
            value = TrialValue(cost=self.crash_cost(), status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=self.cost(result), time=result.seconds)
        self._smac.tell(info, value, save=False)
