"""The runner: exact budget accounting, crashed trials recorded, test never shown to strategies."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from conftest import prior_for

from mfnas.execution.runner import run_study
from mfnas.store import Store
from mfnas.tasks.base import Result
from mfnas.tasks.toy import ToyTask
from mfnas.testing.strategy import strategy_params


@pytest.mark.parametrize("strategy", strategy_params())
@pytest.mark.parametrize("budget", [1, 3, 7])
def test_budget_is_never_exceeded_and_every_trial_is_recorded(
    tmp_path, toy, toy_prior, strategy, budget
):
    with Store(tmp_path / "t.sqlite") as store:
        prior = prior_for(strategy, toy_prior)
        summary = run_study(toy, strategy, 0, budget * toy.max_epochs, store, prior=prior)
        records = store.records()
    spent = sum(r.epochs for r in records)
    assert spent == summary.epochs_spent <= budget * toy.max_epochs
    assert len(records) == summary.trials > 0
    assert [r.trial_id for r in records] == sorted({r.trial_id for r in records})
    assert all(1 <= r.epochs <= toy.max_epochs and len(r.curve) == r.epochs for r in records)
    if strategy == "random":  # full fidelity only: the budget buys exactly `budget` trainings
        assert spent == budget * toy.max_epochs and len(records) == budget


def test_final_full_trainings_count_toward_the_budget(tmp_path, toy) -> None:
    with Store(tmp_path / "t.sqlite") as store:
        summary = run_study(toy, "smac-hb", 0, 10 * toy.max_epochs, store)
        records = store.records()
    full = [r for r in records if r.epochs == toy.max_epochs]
    assert full, "smac-hb reached full fidelity within 10 full trainings"
    assert summary.best_val == max(r.curve[-1] for r in full)
    assert sum(r.epochs for r in records) <= 10 * toy.max_epochs


class CrashingToy(ToyTask):
    """Toy where every third evaluation raises and every fifth returns NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _evaluate(self, config, epochs, seed, start=None) -> Result:
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("simulated training failure")
        result = super()._evaluate(config, epochs, seed, start)
        if self.calls % 5 == 0:
            return replace(result, curve=(*result.curve[:-1], math.nan))
        return result


def test_crashing_and_diverging_trials_are_recorded_and_the_run_goes_on(tmp_path) -> None:
    task = CrashingToy()
    with Store(tmp_path / "t.sqlite") as store:
        summary = run_study(task, "random", 0, 10 * task.max_epochs, store)
        records = store.records()
    crashed = [r for r in records if r.status == "crashed"]
    assert len(records) == 10 and summary.crashed == len(crashed) == 5  # calls 3, 5, 6, 9, 10
    assert {r.error for r in crashed} == {
        "RuntimeError: simulated training failure",
        "non-finite metric (diverged)",
    }
    assert all(r.curve == [] and r.test is None for r in crashed)


def test_strategies_never_see_test_metrics(tmp_path, toy, monkeypatch) -> None:
    seen = []
    from mfnas.strategies.random_search import RandomSearch

    monkeypatch.setattr(RandomSearch, "tell", lambda self, spec, result: seen.append(result))
    with Store(tmp_path / "t.sqlite") as store:
        run_study(toy, "random", 0, 3 * toy.max_epochs, store)
        assert all(r.test is not None for r in store.records())
    assert len(seen) == 3 and all(r.test is None for r in seen)
