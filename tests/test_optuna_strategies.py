"""``optuna-tpe`` and ``optuna-hb``: the study behind them and the pruner's rung translation."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from mfnas.execution.runner import problem_for
from mfnas.spaces import config_key
from mfnas.strategies.optuna_hb import OptunaHyperband, rungs
from mfnas.strategies.optuna_tpe import OptunaTPE


@pytest.mark.parametrize(
    ("low", "high", "bracket", "expected"),
    [
        (1, 27, 0, [1, 3, 9, 27]),
        (1, 27, 2, [9, 27]),
        (1, 27, 3, [27]),
        (1, 20, 0, [1, 3, 9, 20]),
        (2, 27, 1, [6, 18, 27]),
    ],
)
def test_rungs_follow_the_bracket_and_end_at_max_epochs(low, high, bracket, expected) -> None:
    assert rungs(low, high, 3, bracket) == expected


def test_an_optuna_trial_climbs_its_rungs_until_pruned_or_complete(toy) -> None:
    problem = problem_for(toy, 200 * toy.max_epochs)
    strategy = OptunaHyperband(problem, 0)
    climbs: dict[int, tuple] = {}
    for _ in range(150):
        spec = strategy.ask(problem.budget_epochs)
        climb = strategy._climbs[spec.trial_id]
        climbs.setdefault(climb.trial.number, (climb, []))[1].append(spec)
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())
    states = {t.number: t.state for t in strategy.study.trials}
    assert len({tuple(climb.rungs) for climb, _ in climbs.values()}) > 1  # several brackets
    for number, (climb, specs) in climbs.items():
        ladder = [s.epochs for s in specs]
        assert ladder == climb.rungs[: len(ladder)]  # its bracket's rungs, from the first
        assert len({config_key(s.config) for s in specs}) == 1  # one config per Optuna trial
        if states[number] == TrialState.COMPLETE:
            assert ladder[-1] == toy.max_epochs
        if states[number] == TrialState.PRUNED:
            assert ladder[-1] < toy.max_epochs
    assert TrialState.PRUNED in states.values() and TrialState.COMPLETE in states.values()
    trial = next(t for t in strategy.study.trials if t.state == TrialState.COMPLETE)
    assert sorted(trial.intermediate_values) == list(range(1, toy.max_epochs + 1))


def test_crashed_trials_fail_their_optuna_trial(toy) -> None:
    for cls in (OptunaTPE, OptunaHyperband):
        strategy = cls(problem_for(toy, 5 * toy.max_epochs), 0)
        spec = strategy.ask(10**6)
        strategy.tell(spec, None)
        assert strategy.study.trials[0].state == TrialState.FAIL


def test_tpe_starts_at_random_for_a_quarter_of_the_budget(toy) -> None:
    assert OptunaTPE(problem_for(toy, 8 * toy.max_epochs), 0).n_startup_trials == 2
    assert OptunaTPE(problem_for(toy, 24 * toy.max_epochs), 0).n_startup_trials == 6
    assert OptunaTPE(problem_for(toy, 100 * toy.max_epochs), 0).n_startup_trials == 10
