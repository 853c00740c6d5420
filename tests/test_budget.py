"""Budget planning: two-stage splits and the full-fidelity guard of multi-fidelity strategies."""

from __future__ import annotations

import pytest

from mfnas.execution.runner import problem_for, run_study
from mfnas.store import Store
from mfnas.strategies.base import TrialSpec
from mfnas.strategies.budget import FullFidelityGuard, split_budget


@pytest.mark.parametrize(
    ("budget", "fraction", "first", "n_full"),
    [(1, 0.5, 0, 1), (2, 0.5, 27, 1), (3, 1 / 3, 27, 2), (10, 0.5, 135, 5), (10, 0.0, 0, 10)],
)
def test_split_keeps_at_least_one_full_training_and_never_overspends(
    toy, budget, fraction, first, n_full
) -> None:
    plan = split_budget(problem_for(toy, budget * toy.max_epochs), fraction)
    assert (plan.first_epochs, plan.n_full) == (first, n_full)
    assert plan.first_epochs + plan.n_full * toy.max_epochs <= budget * toy.max_epochs


def test_the_guard_replaces_the_last_affordable_low_fidelity_proposal(toy) -> None:
    guard = FullFidelityGuard(problem_for(toy, 2 * toy.max_epochs))
    assert not guard.intercept(1, 2 * toy.max_epochs)
    assert guard.intercept(1, toy.max_epochs)  # 1 epoch now leaves no full training
    assert not guard.intercept(1, toy.max_epochs - 1)  # a full training no longer fits
    assert not guard.intercept(toy.max_epochs, toy.max_epochs)  # already full


def test_the_guard_trains_the_best_seen_and_knows_its_own_trials(toy) -> None:
    problem = problem_for(toy, 2 * toy.max_epochs)
    guard = FullFidelityGuard(problem)
    ids = iter(range(100))

    def make_spec(config, epochs: int) -> TrialSpec:
        return TrialSpec(next(ids), config, epochs)

    toy.space.seed(0)
    first, second = toy.space.sample_configuration(2)
    assert first != second
    low = make_spec(first, 3)
    guard.started(low)
    result = toy.evaluate(first, 3, seed=0)
    assert not guard.finished(low, result, cost=0.5)  # the strategy's own trial
    full = guard.full_training(make_spec, second)
    assert (full.config, full.epochs) == (first, toy.max_epochs)  # the best seen, not proposed
    guard.started(full)
    assert not guard.intercept(1, toy.max_epochs)  # a full training is pending
    assert guard.finished(full, None, None)  # the guard's: the library never hears of it
    assert not guard.finished(full, None, None)  # told once: the guard forgets it
    assert guard.intercept(1, toy.max_epochs)  # it crashed: the guard may step in again


@pytest.mark.parametrize("name", ["hyperband", "smac-hb", "optuna-hb"])
def test_multi_fidelity_strategies_end_a_small_budget_with_a_full_training(
    name, toy, tmp_path
) -> None:
    with Store(tmp_path / "t.sqlite") as store:
        run_study(toy, name, 0, 2 * toy.max_epochs, store)
        records = store.records()
    full = [r for r in records if r.epochs == toy.max_epochs]
    low = [r for r in records if r.epochs < toy.max_epochs]
    assert full and sum(r.epochs for r in records) <= 2 * toy.max_epochs
    if name != "optuna-hb":  # SMAC's first bracket: 27 one-epoch trials, then the guard
        best_low = max(low, key=lambda r: (r.epochs, r.curve[-1]))
        assert full[0].config == best_low.config
