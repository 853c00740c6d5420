"""Strategy registry: ``make_strategy(name, problem, seed)``."""

from __future__ import annotations

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.evolution import RegularizedEvolution
from mfnas.strategies.grid import GridSearch
from mfnas.strategies.hierarchical import Hierarchical
from mfnas.strategies.hyperband import Hyperband
from mfnas.strategies.one_epoch import OneEpoch
from mfnas.strategies.optuna_gp import OptunaGP
from mfnas.strategies.optuna_hb import OptunaHyperband
from mfnas.strategies.optuna_tpe import OptunaTPE
from mfnas.strategies.random_search import RandomSearch
from mfnas.strategies.smac_bo import SmacBO
from mfnas.strategies.smac_gp import SmacGP
from mfnas.strategies.smac_hb import SmacHyperband
from mfnas.strategies.surrogate_hb import (
    SurrogateHyperband,
    SurrogateHyperbandNoPredictor,
    SurrogateHyperbandWarm,
)

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        GridSearch,
        RandomSearch,
        OneEpoch,
        RegularizedEvolution,
        SmacBO,
        SmacGP,
        Hyperband,
        SmacHyperband,
        Hierarchical,
        OptunaTPE,
        OptunaGP,
        OptunaHyperband,
        SurrogateHyperband,
        SurrogateHyperbandNoPredictor,
        SurrogateHyperbandWarm,
    )
}


def make_strategy(name: str, problem: Problem, seed: int) -> Strategy:
    """Build the named strategy for ``problem`` with its RNG seeded by ``seed``."""
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    return STRATEGIES[name](problem, seed)


__all__ = ["STRATEGIES", "Problem", "Strategy", "TrialSpec", "make_strategy"]
