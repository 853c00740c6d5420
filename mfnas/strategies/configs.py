"""Working with conditional spaces: active hyperparameters, seeded sampling, repairing values.

A configuration is edited as a plain ``dict`` of values and turned back into a valid
``Configuration`` by ``repair``: hyperparameters are visited in the space's topological order
(parents before children); an active one keeps its value when it has a legal one and gets a
sampled value otherwise; an inactive one is dropped. All sampling uses the caller's RNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import (
    AndConjunction,
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    EqualsCondition,
    InCondition,
    NotEqualsCondition,
    OrConjunction,
)
from ConfigSpace.hyperparameters import Hyperparameter
from ConfigSpace.types import NotSet  # the sentinel conditions test for an unset parent

_CONDITIONS = (EqualsCondition, NotEqualsCondition, InCondition)
_CONJUNCTIONS = (AndConjunction, OrConjunction)


class UnsupportedSpaceError(ValueError):
    """A space that another library's search space cannot express faithfully."""


def _check_condition(condition: Any, where: str) -> None:
    if isinstance(condition, _CONJUNCTIONS):
        for component in condition.components:
            _check_condition(component, where)
    elif not isinstance(condition, _CONDITIONS):
        raise UnsupportedSpaceError(
            f"{where}: condition {type(condition).__name__} ({condition}) is not supported; "
            "use EqualsCondition, NotEqualsCondition, InCondition or And/Or conjunctions of them"
        )


def check_translatable(space: ConfigurationSpace) -> None:
    """Raise ``UnsupportedSpaceError`` for what the translations into flat spaces (Optuna,
    syne-tune) cannot keep: forbidden clauses, and conditions other than (conjunctions of)
    equality and membership tests on a parent's value."""
    if space.forbidden_clauses:
        raise UnsupportedSpaceError(
            f"forbidden clauses are not supported ({len(space.forbidden_clauses)} in the space)"
        )
    for name in space:
        for condition in space.parent_conditions_of[name]:
            _check_condition(condition, f"hyperparameter {name!r}")


def unsupported_hyperparameter(hp: Hyperparameter) -> UnsupportedSpaceError:
    """The error for a hyperparameter type that the translations do not map."""
    return UnsupportedSpaceError(
        f"hyperparameter {hp.name!r} of type {type(hp).__name__} is not supported; use uniform "
        "float/integer (log or not), ordinal, categorical or constant hyperparameters"
    )


class _Partial(dict):
    """Values of a partial assignment; a missing (unassigned or inactive) name reads NotSet."""

    def __missing__(self, key: str) -> Any:
        return NotSet


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def is_active(space: ConfigurationSpace, name: str, values: Mapping[str, Any]) -> bool:
    """True when every condition on ``name`` holds for the (partial) ``values``.

    A condition whose parent has no value (not yet assigned, or inactive) does not hold.
    """
    partial = _Partial(values)
    return all(cond.satisfied_by_value(partial) for cond in space.parent_conditions_of[name])


def sample_value(hp: Hyperparameter, rng: np.random.Generator) -> Any:
    """One value of ``hp`` drawn from its own distribution, seeded from ``rng``."""
    state = np.random.RandomState(int(rng.integers(2**31 - 1)))
    return plain(hp.sample_value(seed=state))


def repair(
    space: ConfigurationSpace, values: Mapping[str, Any], rng: np.random.Generator
) -> Configuration:
    """The valid configuration closest to ``values``: keep legal active values, sample the
    missing active ones, drop the inactive ones. Raises ``ForbiddenValueError`` when the result
    violates a forbidden clause (callers retry)."""
    fixed: dict[str, Any] = {}
    state: np.random.RandomState | None = None  # ConfigSpace samples with a RandomState
    for name, hp in space.items():
        if not is_active(space, name, fixed):
            continue
        value = plain(values.get(name, NotSet))
        if value is NotSet or not hp.legal_value(value):
            if state is None:
                state = np.random.RandomState(int(rng.integers(2**31 - 1)))
            value = plain(hp.sample_value(seed=state))
        fixed[name] = value
    config = Configuration(space, values=fixed)
    config.check_valid_configuration()
    return config


def sample_config(
    space: ConfigurationSpace,
    rng: np.random.Generator,
    fixed: Mapping[str, Sequence[Any]] | None = None,
) -> Configuration:
    """A configuration sampled from the space's own distributions (the space's RNG is
    reseeded from ``rng`` first, so the draw depends on ``rng`` alone).

    ``fixed`` restricts some (unconditional) hyperparameters to the listed values, drawn
    uniformly; the children they activate are sampled as usual.
    """
    space.seed(int(rng.integers(2**31 - 1)))
    config = space.sample_configuration()
    if not fixed:
        return config
    values = dict(config)
    for name, allowed in fixed.items():
        values[name] = plain(allowed[int(rng.integers(len(allowed)))])
    return repair(space, values, rng)


def architecture_parameter(space: ConfigurationSpace) -> str | None:
    """The space's top-level architecture categorical (e.g. ``model`` or ``arch``), or None.

    It is the unconditional categorical that the most conditions hang from; a space whose
    conditions hang from no such categorical falls back to its first unconditional
    categorical, and a space without one has no architecture parameter.
    """
    candidates = [
        name
        for name, hp in space.items()
        if isinstance(hp, CategoricalHyperparameter) and not space.parent_conditions_of[name]
    ]
    if not candidates:
        return None
    children = {name: len(space.child_conditions_of[name]) for name in candidates}
    best = max(candidates, key=lambda name: children[name])  # first wins ties
    return best if children[best] > 0 else candidates[0]
