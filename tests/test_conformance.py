"""The Strategy suite (``mfnas.testing.strategy``) over every registered strategy, and the
registry itself."""

from __future__ import annotations

import pytest

from mfnas.strategies import STRATEGIES, Problem, make_strategy
from mfnas.testing.strategy import StrategySuite, strategy_params


class TestEveryStrategy(StrategySuite):
    @pytest.fixture(params=strategy_params())
    def strategy_name(self, request: pytest.FixtureRequest) -> str:
        return request.param


def test_every_strategy_is_registered_under_its_name() -> None:
    assert set(STRATEGIES) == {
        "grid", "random", "one-epoch", "evolution", "smac-bo", "smac-gp", "hyperband", "smac-hb",
        "hierarchical", "optuna-tpe", "optuna-gp", "optuna-hb", "dehb", "asha", "bohb-st",
        "asha-bore", "surrogate-hb", "surrogate-hb-nopred", "surrogate-hb-warm",
    }  # fmt: skip
    assert all(STRATEGIES[name].name == name for name in STRATEGIES.installed_names())


def test_unknown_strategy_is_a_clear_error(toy_problem: Problem) -> None:
    with pytest.raises(KeyError, match="unknown strategy 'nope'"):
        make_strategy("nope", toy_problem, 0)
