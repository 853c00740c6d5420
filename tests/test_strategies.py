"""Every registered strategy on ``toy``: valid configs, determinism, pending and crashed trials."""

from __future__ import annotations

import pytest
from ConfigSpace import Configuration

from mfnas.runner import run_study
from mfnas.spaces import plain_config
from mfnas.store import Store
from mfnas.strategies import STRATEGIES, Problem, make_strategy
from mfnas.tasks.toy import ToyTask

NAMES = sorted(STRATEGIES)


def trials(tmp_path, toy: ToyTask, name: str, seed: int) -> list[tuple]:
    with Store(tmp_path / f"{name}-{seed}.sqlite") as store:
        run_study(toy, name, seed, 6 * toy.max_epochs, store)
        return [(r.config, r.epochs, r.curve) for r in store.records()]


@pytest.mark.parametrize("name", NAMES)
def test_proposals_are_valid_configurations_within_the_fidelity_range(name, toy, toy_problem):
    strategy = make_strategy(name, toy_problem, seed=0)
    for _ in range(20):
        spec = strategy.ask(toy_problem.budget_epochs)
        assert spec is not None
        spec.config.check_valid_configuration()  # raises on a violated condition or bound
        assert spec.config.config_space == toy.space
        assert toy.min_epochs <= spec.epochs <= toy.max_epochs
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trials_other_seed_other_trials(name, toy, tmp_path) -> None:
    for sub in "abc":
        (tmp_path / sub).mkdir()
    first = trials(tmp_path / "a", toy, name, seed=1)
    second = trials(tmp_path / "b", toy, name, seed=1)
    other = trials(tmp_path / "c", toy, name, seed=2)
    assert first == second
    assert first != other


@pytest.mark.parametrize("name", NAMES)
def test_several_pending_trials_and_out_of_order_tells(name, toy, toy_problem) -> None:
    strategy = make_strategy(name, toy_problem, seed=0)
    for _ in range(3):
        pending = [strategy.ask(toy_problem.budget_epochs) for _ in range(4)]
        assert all(spec is not None for spec in pending)
        assert len({spec.trial_id for spec in pending}) == 4
        for spec in reversed(pending):  # tells in the reverse order of the asks
            strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())


@pytest.mark.parametrize("name", NAMES)
def test_crashed_tells_are_accepted(name, toy, toy_problem) -> None:
    strategy = make_strategy(name, toy_problem, seed=0)
    for _ in range(5):
        spec = strategy.ask(toy_problem.budget_epochs)
        strategy.tell(spec, None)
    assert strategy.ask(toy_problem.budget_epochs) is not None


@pytest.mark.parametrize("name", NAMES)
def test_nothing_is_proposed_that_does_not_fit(name, toy, toy_problem) -> None:
    strategy = make_strategy(name, toy_problem, seed=0)
    assert strategy.ask(0) is None


def test_records_hold_plain_python_types(toy, tmp_path) -> None:
    for name in NAMES:
        for config, epochs, curve in trials(tmp_path, toy, name, seed=0):
            assert all(type(v) in (int, float, str, bool) for v in config.values())
            assert type(epochs) is int and all(type(v) is float for v in curve)


def test_unknown_strategy_is_a_clear_error(toy_problem: Problem) -> None:
    with pytest.raises(KeyError, match="unknown strategy 'nope'"):
        make_strategy("nope", toy_problem, 0)


def test_plain_config_of_a_proposal_revalidates(toy, toy_problem) -> None:
    spec = make_strategy("random", toy_problem, 0).ask(toy_problem.budget_epochs)
    Configuration(toy.space, plain_config(spec.config)).check_valid_configuration()
