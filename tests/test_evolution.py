"""``evolution``: operators keep configurations valid; the population ages out its oldest."""

from __future__ import annotations

import numpy as np
import pytest

from mfnas.execution.runner import problem_for
from mfnas.spaces import load_space
from mfnas.strategies.configs import sample_config
from mfnas.strategies.evolution import AgingEvolution, RegularizedEvolution, crossover, mutate

DRAWS = 200


@pytest.mark.parametrize("space_name", ["toy", "recsys"])
def test_mutation_is_always_valid_and_changes_the_parent(space_name) -> None:
    space, rng = load_space(space_name), np.random.default_rng(0)
    parent_branch_changes = 0
    for _ in range(DRAWS):
        parent = sample_config(space, rng)
        child = mutate(parent, rng)
        child.check_valid_configuration()
        assert dict(child) != dict(parent)
        changed = {k for k in dict(parent) if k in dict(child) and child[k] != parent[k]}
        assert len(changed) <= 1  # one hyperparameter resampled; its children may come or go
        parent_branch_changes += set(dict(child)) != set(dict(parent))
    assert parent_branch_changes > 0  # some mutations switched a branch and were repaired


@pytest.mark.parametrize("space_name", ["toy", "recsys"])
def test_crossover_is_always_valid_and_takes_each_value_from_a_parent(space_name) -> None:
    space, rng = load_space(space_name), np.random.default_rng(1)
    for _ in range(DRAWS):
        a, b = sample_config(space, rng), sample_config(space, rng)
        child = crossover(a, b, rng)
        child.check_valid_configuration()
        for name, value in dict(child).items():
            from_parents = [p[name] for p in (a, b) if name in dict(p)]
            assert value in from_parents or not from_parents


def test_a_restriction_is_kept_by_sampling_and_mutation(toy) -> None:
    rng, fixed = np.random.default_rng(2), {"arch": ["deep"]}
    for _ in range(DRAWS):
        config = mutate(sample_config(toy.space, rng, fixed), rng, fixed)
        config.check_valid_configuration()
        assert config["arch"] == "deep"


def test_the_population_ages_out_its_oldest_and_tournaments_pick_the_best(toy) -> None:
    rng = np.random.default_rng(3)
    evolution = AgingEvolution(toy.space, rng, population_size=4, sample_size=4)
    members = [evolution.propose() for _ in range(6)]
    for i, config in enumerate(members):
        evolution.observe(config, cost=float(i))
    evolution.observe(members[0], cost=None)  # a crash never joins
    assert [cost for _, cost in evolution.population] == [2.0, 3.0, 4.0, 5.0]
    assert evolution._tournament() is members[2]  # the whole population: the lowest cost


def test_the_first_population_is_random_then_children_follow(toy) -> None:
    problem = problem_for(toy, 30 * toy.max_epochs)
    strategy = RegularizedEvolution(problem, seed=0, population_size=5, sample_size=2)
    for i in range(12):
        spec = strategy.ask(problem.budget_epochs)
        assert spec.epochs == toy.max_epochs
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())
        assert len(strategy.evolution.population) == min(i + 1, 5)
