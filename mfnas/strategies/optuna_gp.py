"""``optuna-gp``: Optuna's Gaussian-process sampler at full fidelity."""

from __future__ import annotations

import optuna

from mfnas.strategies.optuna_tpe import OptunaTPE


class OptunaGP(OptunaTPE):
    """``optuna.samplers.GPSampler`` (a Matérn-5/2 GP with log expected improvement, fitted
    with torch), every trial at ``max_epochs``, after the same random start as ``optuna-tpe``.
    A conditional hyperparameter outside the GP's search space (one not active in every
    trial) is sampled at random, as Optuna does."""

    name = "optuna-gp"

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=self.n_startup_trials, warn_independent_sampling=False
        )
