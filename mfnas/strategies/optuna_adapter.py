"""The shared Optuna adapter: an in-memory Optuna study driven through ask/tell.

Each strategy owns one study (direction ``minimize`` on ``Strategy.cost``, a study name fixed
by strategy and seed so Hyperband's bracket hashing is reproducible) with a seeded
``TPESampler(multivariate=True, group=True)``; the space is translated by ``optuna_space``.
Optuna's logging is set to WARNING once, when a strategy is built (that setting is global to
Optuna; the root logger is never touched).
"""

from __future__ import annotations

import warnings

import optuna
from ConfigSpace import Configuration
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

from mfnas.strategies.base import Problem, Strategy
from mfnas.strategies.optuna_space import suggest, translate


class OptunaStrategy(Strategy):
    """Base of the Optuna strategies: the study, its sampler and pruner, and the translation.

    ``n_startup_trials`` is the sampler's number of random trials before it models (None: the
    subclass's default).
    """

    def __init__(self, problem: Problem, seed: int, n_startup_trials: int | None = None) -> None:
        super().__init__(problem, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.params = translate(problem.space)
        self.n_startup_trials = (
            self._default_startup() if n_startup_trials is None else n_startup_trials
        )
        with warnings.catch_warnings():  # multivariate/group and GPSampler are experimental
            warnings.simplefilter("ignore", ExperimentalWarning)
            sampler = self._sampler(int(self.rng.integers(2**31 - 1)))
        self.study = optuna.create_study(
            study_name=f"mfnas-{self.name}-{seed}",
            direction="minimize",
            sampler=sampler,
            pruner=self._pruner(),
        )
        self._running: dict[int, optuna.Trial] = {}  # mfnas trial id -> its Optuna trial

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        """The study's sampler, seeded with ``seed``: multivariate, group-decomposed TPE with
        ``n_startup_trials`` random trials first (a subclass may choose another)."""
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=self.n_startup_trials, multivariate=True, group=True
        )

    def _default_startup(self) -> int:
        """The sampler's random start: Optuna's default of 10 trials."""
        return 10

    def _pruner(self) -> optuna.pruners.BasePruner:
        """The study's pruner (none by default)."""
        return optuna.pruners.NopPruner()

    def _new_trial(self) -> tuple[optuna.Trial, Configuration]:
        """A new Optuna trial and the configuration suggested on it."""
        trial = self.study.ask()
        return trial, suggest(trial, self.problem.space, self.params)

    def _fail(self, trial: optuna.Trial) -> None:
        """Tell Optuna that ``trial`` crashed."""
        self.study.tell(trial, state=TrialState.FAIL)
