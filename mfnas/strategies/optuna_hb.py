"""``optuna-hb``: Optuna's TPE with its Hyperband pruner fed the per-epoch validation curve.

How Optuna's pruning loop is translated to mfnas, whose trials train for a number of epochs
fixed when they are asked:

- In Optuna, one trial trains epoch by epoch, calls ``trial.report(value, step)`` after each
  and stops at the first step where ``trial.should_prune()`` says so. The
  ``HyperbandPruner(min_resource=min_epochs, max_resource=max_epochs, reduction_factor=3)``
  assigns each trial to a bracket ``s`` (a hash of study name and trial number) whose
  successive-halving rungs sit at ``min_epochs * 3**(s + k)``; only at those steps can
  ``should_prune`` say yes.
- Here one Optuna trial becomes a sequence of mfnas trials, one per rung of its bracket:
  ``min_epochs * 3**s``, then ``* 3`` up to (and ending at) ``max_epochs``. When an mfnas
  trial returns its curve, the epochs not reported before are reported step by step (step =
  epoch number, value = that epoch's cost), calling ``should_prune`` after each step below
  ``max_epochs``. Pruned: the Optuna trial is told PRUNED and ends. Not pruned: the same Optuna
  trial continues with a new mfnas trial at its next rung, which the runner continues from the
  previous rung's checkpoint (continuation on, the default): one Optuna trial is one training,
  paused at its rungs and charged each epoch once, as Optuna's own users run it. With
  ``--continuation off`` each rung retrains from scratch (the per-config seed makes its first
  epochs repeat) and pays for them again. At ``max_epochs`` the trial is told COMPLETE with its
  final cost.
  A crashed mfnas trial fails its Optuna trial.
- Promotions are proposed before new trials. The bracket of a trial is read from the pruner
  (a private helper of Optuna's); should that helper go away, every trial climbs bracket 0's
  rungs, which is still correct, only less economical.
- Like the SMAC multi-fidelity strategies, a ``FullFidelityGuard`` makes sure a small budget
  still ends with a full training (of the best configuration seen; not told to Optuna).
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna
from ConfigSpace import Configuration
from optuna.trial import TrialState

from mfnas.strategies.base import Problem, TrialSpec
from mfnas.strategies.budget import FullFidelityGuard
from mfnas.strategies.optuna_adapter import OptunaStrategy
from mfnas.tasks.base import Result


@dataclass
class _Climb:
    """One Optuna trial climbing its rungs: what it reported so far and where it goes next."""

    trial: optuna.Trial
    config: Configuration
    rungs: list[int]
    reported: int = 0  # epochs already reported to Optuna

    @property
    def next_epochs(self) -> int:
        return next(r for r in self.rungs if r > self.reported)


def rungs(min_epochs: int, max_epochs: int, eta: int, bracket: int) -> list[int]:
    """The epochs at which a trial of ``bracket`` is judged: ``min_epochs * eta**(bracket + k)``
    below ``max_epochs``, then ``max_epochs``."""
    ladder, epochs = [], min_epochs * eta**bracket
    while epochs < max_epochs:
        ladder.append(epochs)
        epochs *= eta
    return [*ladder, max_epochs]


class OptunaHyperband(OptunaStrategy):
    """TPE + ``HyperbandPruner`` (eta=3) over [min_epochs, max_epochs]; see the module notes."""

    name = "optuna-hb"
    eta = 3

    def __init__(self, problem: Problem, seed: int, n_startup_trials: int | None = None) -> None:
        super().__init__(problem, seed, n_startup_trials)
        self._climbs: dict[int, _Climb] = {}  # mfnas trial id -> the climb it belongs to
        self._ready: list[_Climb] = []  # climbs waiting for their next rung
        self._guard = FullFidelityGuard(problem)

    def _pruner(self) -> optuna.pruners.HyperbandPruner:
        return optuna.pruners.HyperbandPruner(
            min_resource=self.problem.min_epochs,
            max_resource=self.problem.max_epochs,
            reduction_factor=self.eta,
        )

    def _bracket(self, trial: optuna.Trial) -> int:
        """The Hyperband bracket Optuna's pruner puts ``trial`` in (0 if it cannot be read)."""
        pruner = self.study.pruner
        try:
            if not pruner._pruners:  # the pruner builds its brackets lazily
                pruner._try_initialization(self.study)
            return int(pruner._get_bracket_id(self.study, trial))  # reads trial.number
        except (AttributeError, TypeError):  # the private helpers changed: bracket 0's rungs
            return 0

    def _climb(self, budget_left: int) -> _Climb | None:
        """The first waiting climb whose next rung fits, else a new climb if it fits."""
        for i, climb in enumerate(self._ready):
            if climb.next_epochs <= budget_left:
                return self._ready.pop(i)
        trial, config = self._new_trial()
        ladder = rungs(
            self.problem.min_epochs, self.problem.max_epochs, self.eta, self._bracket(trial)
        )
        climb = _Climb(trial, config, ladder)
        if climb.next_epochs > budget_left:
            self._ready.append(climb)
            return None
        return climb

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.min_epochs:
            return None
        climb = self._climb(budget_left)
        if climb is None:
            return None
        epochs = climb.next_epochs
        if self._guard.intercept(epochs, budget_left):
            self._ready.insert(0, climb)
            spec = self._guard.full_training(self._spec, climb.config)
        else:
            spec = self._spec(climb.config, epochs)
            self._climbs[spec.trial_id] = climb
        self._guard.started(spec)
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        if self._guard.finished(spec, result, None if result is None else self.cost(result)):
            return
        climb = self._climbs.pop(spec.trial_id)
        if result is None:
            self._fail(climb.trial)
            return
        max_epochs = self.problem.max_epochs
        for step in range(climb.reported + 1, spec.epochs + 1):
            climb.trial.report(self.value_cost(result.curve[step - 1]), step)
            climb.reported = step
            if step < max_epochs and climb.trial.should_prune():
                self.study.tell(climb.trial, state=TrialState.PRUNED)
                return
        if spec.epochs >= max_epochs:
            self.study.tell(climb.trial, self.cost(result))
        else:
            self._ready.append(climb)
