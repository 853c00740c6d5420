"""A ConfigSpace space as a syne-tune config space, and syne-tune's configurations back.

syne-tune's spaces are flat dictionaries (name -> domain, or a constant): they have no
conditions. ``translate`` maps every hyperparameter, conditional ones included, so syne-tune
samples a value for each; ``to_configuration`` keeps the values of those active under the
space's conditions (parents before children) and drops the others, giving the valid
``Configuration`` (numbers first kept within their ranges: ``within_bounds``). syne-tune's
model-based searchers therefore also see the values of inactive
hyperparameters, as they would in any conditional space given to syne-tune.

============================  ==============================================================
ConfigSpace                   syne-tune
============================  ==============================================================
UniformFloat (log or not)     ``loguniform(lower, upper)`` / ``uniform(lower, upper)``
UniformInteger (log or not)   ``lograndint(lower, upper)`` / ``randint(lower, upper)``
                              (both bounds included, as in ConfigSpace)
Ordinal                       ``ordinal(sequence)`` (nearest-neighbour over increasing numbers,
                              by position otherwise)
Categorical                   ``choice(choices)`` (weights are not kept)
Constant                      the value itself
Equals/NotEquals/In condition kept by ``to_configuration``; And/Or conjunctions of these too
============================  ==============================================================

Anything else raises ``UnsupportedSpaceError``, as the Optuna translation does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from ConfigSpace.util import deactivate_inactive_hyperparameters
from syne_tune.config_space import (
    choice,
    lograndint,
    loguniform,
    ordinal,
    randint,
    uniform,
)

from mfnas.strategies.configs import check_translatable, plain, unsupported_hyperparameter


def _domain(hp: Any) -> Any:
    kind = type(hp)
    if kind is UniformFloatHyperparameter:
        make = loguniform if hp.log else uniform
        return make(float(hp.lower), float(hp.upper))
    if kind is UniformIntegerHyperparameter:
        make = lograndint if hp.log else randint
        return make(int(hp.lower), int(hp.upper))
    if kind is OrdinalHyperparameter:
        return ordinal([plain(v) for v in hp.sequence])
    if kind is CategoricalHyperparameter:
        return choice([plain(v) for v in hp.choices])
    if kind is Constant:
        return plain(hp.value)
    raise unsupported_hyperparameter(hp)


def translate(space: ConfigurationSpace) -> dict[str, Any]:
    """The space as a syne-tune config space (every hyperparameter; see the module notes).

    Raises ``UnsupportedSpaceError`` for a hyperparameter, condition or forbidden clause that
    the translation cannot keep.
    """
    check_translatable(space)
    return {name: _domain(hp) for name, hp in space.items()}


def within_bounds(space: ConfigurationSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """syne-tune's ``values`` with each number inside its hyperparameter's range (integers
    rounded), as plain Python values.

    syne-tune 0.16's kernel-density searcher (``bohb-st``) encodes an integer ``[lower,
    upper]`` as if ``lower`` were 0, so it can propose integers below ``lower`` (2 for a range
    of 16-64); those are clipped to the range, and the clipped values are what the searcher is
    told it ran.
    """
    fixed = {}
    for name, hp in space.items():
        value = plain(values[name])
        if isinstance(hp, UniformFloatHyperparameter):
            value = min(float(hp.upper), max(float(hp.lower), float(value)))
        elif isinstance(hp, UniformIntegerHyperparameter):
            value = min(int(hp.upper), max(int(hp.lower), round(value)))
        fixed[name] = value
    return fixed


def to_configuration(space: ConfigurationSpace, values: Mapping[str, Any]) -> Configuration:
    """The valid configuration of ``space`` that syne-tune's ``values`` (one for every
    hyperparameter, within bounds: ``within_bounds``) make: the active ones' values, the
    inactive ones dropped."""
    config = deactivate_inactive_hyperparameters(dict(values), space)
    config.check_valid_configuration()
    return config
