"""A ConfigSpace space as Optuna define-by-run suggestions, conditions included.

``translate`` maps each hyperparameter to an Optuna distribution, in the space's topological
order (parents before children), keeping the conditions it hangs from; ``suggest`` walks that
list on an Optuna trial, suggesting a hyperparameter only when its conditions hold given the
parent values suggested before it, and returns the valid ``Configuration``.

============================  ==============================================================
ConfigSpace                   Optuna
============================  ==============================================================
UniformFloat (log or not)     ``FloatDistribution(lower, upper, log=log)``
UniformInteger (log or not)   ``IntDistribution(lower, upper, log=log)``
Ordinal                       ``CategoricalDistribution(sequence)`` (its order is not used)
Categorical                   ``CategoricalDistribution(choices)`` (weights are not kept:
                              Optuna's samplers have no categorical prior)
Constant                      not suggested; its value is set
Equals/NotEquals/In condition suggested only when the condition holds; And/Or conjunctions
                              of these too
============================  ==============================================================

Anything else (normal or beta priors, ordering conditions, forbidden clauses) raises
``UnsupportedSpaceError`` naming it, rather than searching a different space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from mfnas.strategies.configs import (
    UnsupportedSpaceError,
    check_translatable,
    is_active,
    plain,
    unsupported_hyperparameter,
)


@dataclass(frozen=True)
class OptunaParam:
    """One hyperparameter as Optuna sees it; ``distribution`` is None for a constant."""

    name: str
    distribution: BaseDistribution | None
    value: Any = None  # the constant's value
    conditional: bool = False


def _distribution(hp: Any) -> BaseDistribution | None:
    kind = type(hp)
    if kind is UniformFloatHyperparameter:
        return FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
    if kind is UniformIntegerHyperparameter:
        return IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
    if kind is OrdinalHyperparameter:
        return CategoricalDistribution([plain(v) for v in hp.sequence])
    if kind is CategoricalHyperparameter:
        return CategoricalDistribution([plain(v) for v in hp.choices])
    if kind is Constant:
        return None
    raise unsupported_hyperparameter(hp)


def translate(space: ConfigurationSpace) -> list[OptunaParam]:
    """The space's hyperparameters as Optuna parameters, parents before children.

    Raises ``UnsupportedSpaceError`` for a hyperparameter, condition or forbidden clause that
    Optuna cannot express.
    """
    check_translatable(space)
    params = []
    for name, hp in space.items():
        conditions = space.parent_conditions_of[name]
        distribution = _distribution(hp)
        value = plain(hp.value) if distribution is None else None
        params.append(OptunaParam(name, distribution, value, bool(conditions)))
    return params


def _suggest_one(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise UnsupportedSpaceError(f"no suggestion for distribution {dist!r}")  # pragma: no cover


def suggest(
    trial: optuna.Trial, space: ConfigurationSpace, params: Sequence[OptunaParam]
) -> Configuration:
    """Suggest the active parameters of ``params`` on ``trial``, in order, and return the
    configuration they make (validated against ``space``)."""
    values: dict[str, Any] = {}
    for param in params:
        if param.conditional and not is_active(space, param.name, values):
            continue
        if param.distribution is None:
            values[param.name] = param.value
        else:
            values[param.name] = plain(_suggest_one(trial, param.name, param.distribution))
    config = Configuration(space, values=values)
    config.check_valid_configuration()
    return config
