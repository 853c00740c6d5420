"""Conditional-space helpers: activity on partial values, repair, the architecture parameter."""

from __future__ import annotations

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float

from mfnas.spaces import load_space
from mfnas.strategies.configs import architecture_parameter, is_active, repair, sample_config


def test_activity_is_judged_on_partial_values(toy) -> None:
    assert is_active(toy.space, "lr", {})
    assert not is_active(toy.space, "depth", {})  # its parent has no value yet
    assert is_active(toy.space, "depth", {"arch": "deep"})
    assert not is_active(toy.space, "depth", {"arch": "linear"})


def test_repair_drops_inactive_values_and_samples_missing_active_ones(toy) -> None:
    rng = np.random.default_rng(0)
    linear = repair(toy.space, {"arch": "linear", "lr": 0.01, "x": 0.5, "depth": 3}, rng)
    assert dict(linear) == {"arch": "linear", "lr": 0.01, "x": 0.5}
    deep = repair(toy.space, {"arch": "deep", "lr": 0.01, "x": 7.0}, rng)
    deep.check_valid_configuration()
    assert deep["lr"] == 0.01 and 0.0 <= deep["x"] <= 1.0  # an illegal value is resampled
    assert {"depth", "width"} <= set(dict(deep))


def test_sampling_is_seeded_and_restrictions_hold(toy) -> None:
    draws = [dict(sample_config(toy.space, np.random.default_rng(5))) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(6)
    assert all(
        sample_config(toy.space, rng, {"arch": ["deep"]})["arch"] == "deep" for _ in range(20)
    )


def test_the_architecture_parameter_is_the_categorical_parent_of_the_conditions(toy) -> None:
    assert architecture_parameter(toy.space) == "arch"
    assert architecture_parameter(load_space("recsys")) == "model"
    flat = ConfigurationSpace({"lr": (0.0, 1.0), "opt": ["sgd", "adam"], "act": ["relu", "tanh"]})
    assert architecture_parameter(flat) == "act"  # no conditions: the first categorical
    assert architecture_parameter(ConfigurationSpace({"lr": (0.0, 1.0)})) is None
    nested = ConfigurationSpace({"opt": ["sgd", "adam"], "family": ["a", "b"]})
    child = Float("beta", (0.0, 1.0))
    sub = Categorical("sub", ["p", "q"])
    nested.add(child, sub)
    nested.add(EqualsCondition(child, nested["family"], "a"))
    nested.add(EqualsCondition(sub, nested["family"], "b"))
    assert architecture_parameter(nested) == "family"
