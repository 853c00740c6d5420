"""The ConfigSpace -> Optuna translation: distributions, conditions, and clear refusals."""

from __future__ import annotations

import optuna
import pytest
from ConfigSpace import (
    AndConjunction,
    Categorical,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    GreaterThanCondition,
    InCondition,
    Integer,
    NormalFloatHyperparameter,
    OrConjunction,
    OrdinalHyperparameter,
)
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from mfnas.spaces import load_space
from mfnas.strategies.optuna_space import UnsupportedSpaceError, suggest, translate


def study(seed: int = 0) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))


def test_each_hyperparameter_type_becomes_its_distribution() -> None:
    space = ConfigurationSpace(
        {
            "lr": Float("lr", (1e-4, 1e-1), log=True),
            "x": Float("x", (0.0, 1.0)),
            "n": Integer("n", (1, 64), log=True),
            "k": Integer("k", (2, 5)),
            "c": Categorical("c", ["a", "b"]),
            "w": OrdinalHyperparameter("w", [8, 16, 32]),
            "z": Constant("z", "fixed"),
        }
    )
    params = {p.name: p for p in translate(space)}
    assert params["lr"].distribution == FloatDistribution(1e-4, 1e-1, log=True)
    assert params["x"].distribution == FloatDistribution(0.0, 1.0)
    assert params["n"].distribution == IntDistribution(1, 64, log=True)
    assert params["k"].distribution == IntDistribution(2, 5)
    assert params["c"].distribution == CategoricalDistribution(["a", "b"])
    assert params["w"].distribution == CategoricalDistribution([8, 16, 32])
    assert params["z"].distribution is None and params["z"].value == "fixed"
    trial = study().ask()
    config = suggest(trial, space, translate(space))
    assert config["z"] == "fixed" and "z" not in trial.params
    assert {k: v for k, v in dict(config).items() if k != "z"} == pytest.approx(trial.params)


def conditional_space(conjunction: str) -> ConfigurationSpace:
    """A space with Equals and In conditions and one conjunction (ConfigSpace 1.2 rejects
    some spaces holding both an And and an Or conjunction, so each gets its own space)."""
    space = ConfigurationSpace({"arch": ["a", "b", "c"], "flag": ["on", "off"]})
    only_a, a_or_b = Float("only_a", (0.0, 1.0)), Integer("a_or_b", (1, 4))
    joint = Float("joint", (0.0, 1.0))
    space.add(only_a, a_or_b, joint)
    kind = AndConjunction if conjunction == "and" else OrConjunction
    space.add(
        EqualsCondition(only_a, space["arch"], "a"),
        InCondition(a_or_b, space["arch"], ["a", "b"]),
        kind(
            EqualsCondition(joint, space["arch"], "c"), EqualsCondition(joint, space["flag"], "on")
        ),
    )
    return space


@pytest.mark.parametrize("conjunction", ["and", "or"])
def test_a_conditional_parameter_is_suggested_only_when_its_condition_holds(conjunction) -> None:
    space = conditional_space(conjunction)
    params = translate(space)
    names = [p.name for p in params]
    assert names.index("arch") < names.index("only_a")  # parents come first
    assert names.index("flag") < names.index("joint")
    optuna_study, seen = study(), set()
    for _ in range(60):
        trial = optuna_study.ask()
        config = suggest(trial, space, params)
        config.check_valid_configuration()
        assert set(trial.params) == set(dict(config))  # inactive ones were never suggested
        arch, flag = trial.params["arch"], trial.params["flag"]
        assert ("only_a" in trial.params) == (arch == "a")
        assert ("a_or_b" in trial.params) == (arch in ("a", "b"))
        joint = (
            (arch == "c" and flag == "on")
            if conjunction == "and"
            else (arch == "c" or flag == "on")
        )
        assert ("joint" in trial.params) == joint
        seen.add((arch, flag))
        optuna_study.tell(trial, 0.0)
    assert len(seen) == 6


@pytest.mark.parametrize("space_name", ["toy", "recsys"])
def test_the_project_spaces_translate_and_every_suggestion_is_valid(space_name) -> None:
    space = load_space(space_name)
    params = translate(space)
    assert [p.name for p in params] == list(space.keys())
    optuna_study = study(1)
    for _ in range(50):
        trial = optuna_study.ask()
        config = suggest(trial, space, params)
        config.check_valid_configuration()
        assert trial.params == pytest.approx(dict(config))  # ConfigSpace rounds floats
        optuna_study.tell(trial, 0.5)


def _syne_tune_translate(space: ConfigurationSpace) -> object:
    pytest.importorskip("syne_tune", reason='syne-tune comes with pip install "mfnas[peers]"')
    from mfnas.strategies.syne_tune_space import translate as syne_tune_translate

    return syne_tune_translate(space)


@pytest.mark.parametrize(
    "translate",
    [translate, pytest.param(_syne_tune_translate, marks=pytest.mark.peers)],
    ids=["optuna", "syne-tune"],
)
def test_unsupported_hyperparameters_conditions_and_forbiddens_are_clear_errors(translate) -> None:
    """Both translations into flat spaces (Optuna's, syne-tune's) refuse what they cannot keep."""
    normal = ConfigurationSpace()
    normal.add(NormalFloatHyperparameter("noise", mu=0.0, sigma=1.0, lower=-3.0, upper=3.0))
    with pytest.raises(UnsupportedSpaceError, match="'noise' of type NormalFloat"):
        translate(normal)

    ordering = ConfigurationSpace({"n": (1, 8)})
    child = Float("c", (0.0, 1.0))
    ordering.add(child, GreaterThanCondition(child, ordering["n"], 4))
    with pytest.raises(UnsupportedSpaceError, match="'c': condition GreaterThanCondition"):
        translate(ordering)

    forbidden = ConfigurationSpace({"a": ["x", "y"]})
    forbidden.add(ForbiddenEqualsClause(forbidden["a"], "y"))
    with pytest.raises(UnsupportedSpaceError, match="forbidden clauses are not supported"):
        translate(forbidden)
