"""``grid``: conditional sub-grids per branch, resolution following the budget, seeded order."""

from __future__ import annotations

import math

import pytest
from ConfigSpace import Configuration, ConfigurationSpace, EqualsCondition, Integer

from mfnas.execution.runner import problem_for
from mfnas.spaces import load_space
from mfnas.strategies import Problem
from mfnas.strategies.configs import architecture_parameter
from mfnas.strategies.grid import GridSearch, grid_points, levels, resolution


def grid_size(space: ConfigurationSpace, k: int) -> int:
    return sum(1 for _ in grid_points(space, k))


@pytest.mark.parametrize(("space_name", "k"), [("toy", 2), ("recsys", 1)])
def test_every_point_respects_the_conditions_and_every_branch_is_covered(space_name, k) -> None:
    space = load_space(space_name)
    arch = architecture_parameter(space)
    points = list(grid_points(space, k))
    for values in points:
        Configuration(space, values=values).check_valid_configuration()
    assert {p[arch] for p in points} == set(space[arch].choices)
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)  # no duplicates


def test_each_branch_gets_its_own_sub_grid(toy) -> None:
    points = list(grid_points(toy.space, 3))
    linear = [p for p in points if p["arch"] == "linear"]
    deep = [p for p in points if p["arch"] == "deep"]
    assert all(set(p) == {"arch", "lr", "x"} for p in linear)
    assert all(set(p) == {"arch", "lr", "x", "depth", "width"} for p in deep)
    assert len(linear) == 3 * 3  # lr x x
    assert len(deep) == 3 * 3 * 3 * 4  # lr x x x depth x every width


def test_numeric_levels_are_cell_centres_on_their_own_scale(toy) -> None:
    lr = levels(toy.space["lr"], 2)  # log scale over [1e-4, 1e-1]
    assert [round(math.log10(v), 6) for v in lr] == [-3.25, -1.75]
    assert levels(toy.space["x"], 4) == pytest.approx([0.125, 0.375, 0.625, 0.875])
    assert levels(toy.space["depth"], 1) == [4]  # the centre of 1..6, rounded
    assert levels(toy.space["depth"], 12) == [1, 2, 3, 4, 5, 6]  # integers deduplicated
    assert levels(toy.space["width"], 1) == [8, 16, 32, 64]  # every ordinal value


@pytest.mark.parametrize("n", [1, 2, 5, 6, 36, 37, 100])
def test_resolution_is_the_coarsest_grid_the_budget_fills(toy, n) -> None:
    k = resolution(toy.space, n)
    assert grid_size(toy.space, k) >= n
    assert k == 1 or grid_size(toy.space, k - 1) < n


@pytest.mark.parametrize("budget", [1, 5, 12])
def test_run_trains_distinct_points_at_full_fidelity_in_a_seeded_order(toy, budget) -> None:
    problem = problem_for(toy, budget * toy.max_epochs)
    specs = []
    strategy = GridSearch(problem, seed=0)
    while (spec := strategy.ask(problem.budget_epochs - sum(s.epochs for s in specs))) is not None:
        specs.append(spec)
    assert len(specs) == budget and all(s.epochs == toy.max_epochs for s in specs)
    visited = [dict(s.config) for s in specs]
    assert all(v in [dict(Configuration(toy.space, p)) for p in strategy.points] for v in visited)
    assert len({tuple(sorted(v.items())) for v in visited}) == budget
    other = GridSearch(problem, seed=1)
    assert budget == 1 or [dict(other.ask(10**6).config) for _ in specs] != visited


def test_a_budget_matching_the_coarsest_grid_visits_every_branch(toy) -> None:
    budget = grid_size(toy.space, 1)  # 1 linear point + 4 deep ones (one per width)
    strategy = GridSearch(problem_for(toy, budget * toy.max_epochs), seed=3)
    archs = {strategy.ask(10**6).config["arch"] for _ in range(budget)}
    assert archs == {"linear", "deep"}


def test_an_exhausted_discrete_grid_stops() -> None:
    space = ConfigurationSpace({"a": ["p", "q"]})
    child = Integer("n", (1, 2))
    space.add(child, EqualsCondition(child, space["a"], "q"))
    strategy = GridSearch(Problem(space, 1, 3, budget_epochs=30), seed=0)
    specs = [strategy.ask(30) for _ in range(4)]
    assert [s is None for s in specs] == [False, False, False, True]  # p, (q,1), (q,2)
    assert sorted(str(dict(s.config)) for s in specs[:3]) == sorted(
        str(p) for p in grid_points(space, strategy.k)
    )
