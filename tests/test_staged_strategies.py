"""``one-epoch`` and ``hierarchical``: their budget splits, the wait between their stages, and
final trainings at full fidelity."""

from __future__ import annotations

import pytest

from mfnas.execution.runner import problem_for
from mfnas.spaces import config_key
from mfnas.strategies import Strategy
from mfnas.strategies.hierarchical import Hierarchical
from mfnas.strategies.one_epoch import OneEpoch
from mfnas.tasks.toy import ToyTask


def serial(strategy: Strategy, toy: ToyTask) -> list[tuple]:
    """(spec, cost) of every trial of a serial run over the strategy's whole budget."""
    done, left = [], strategy.problem.budget_epochs
    while (spec := strategy.ask(left)) is not None:
        left -= spec.epochs
        result = toy.evaluate(spec.config, spec.epochs, 0).for_strategy()
        strategy.tell(spec, result)
        done.append((spec, strategy.cost(result)))
    return done


@pytest.mark.parametrize(
    ("budget", "fraction", "n_screen", "n_full"),
    [(1, 0.5, 0, 1), (2, 0.5, 27, 1), (5, 0.5, 81, 2), (10, 0.5, 135, 5), (10, 0.8, 216, 2)],
)
def test_one_epoch_screens_then_fully_trains_the_best_screened(
    toy, budget, fraction, n_screen, n_full
) -> None:
    strategy = OneEpoch(problem_for(toy, budget * toy.max_epochs), 0, screen_fraction=fraction)
    done = serial(strategy, toy)
    screens = [(s, c) for s, c in done if s.epochs == 1]
    finals = [s for s, _ in done if s.epochs != 1]
    assert len(screens) == n_screen and len(finals) == n_full
    assert [s.epochs for s, _ in done] == [1] * n_screen + [toy.max_epochs] * n_full
    assert sum(s.epochs for s, _ in done) <= budget * toy.max_epochs
    if n_screen:
        best = sorted(screens, key=lambda sc: (sc[1], sc[0].trial_id))[:n_full]
        assert [config_key(s.config) for s in finals] == [config_key(s.config) for s, _ in best]


def test_one_epoch_waits_for_every_screening_result_before_choosing(toy) -> None:
    strategy = OneEpoch(problem_for(toy, 2 * toy.max_epochs), 0)
    screens = [strategy.ask(10**6) for _ in range(strategy.n_screen)]
    assert all(s.epochs == 1 for s in screens)
    for spec in screens[1:]:
        strategy.tell(spec, toy.evaluate(spec.config, 1, 0).for_strategy())
    assert strategy.ask(10**6) is None  # one screening result is still out
    strategy.tell(screens[0], None)  # it crashed
    final = strategy.ask(10**6)
    assert final.epochs == toy.max_epochs and final.config is not screens[0].config


def test_one_epoch_rejects_a_fraction_outside_0_1(toy) -> None:
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        OneEpoch(problem_for(toy, 5 * toy.max_epochs), 0, screen_fraction=1.0).ask(10**6)


@pytest.mark.parametrize(("budget", "n_short", "n_full"), [(1, 0, 1), (2, 9, 1), (9, 27, 6)])
def test_hierarchical_screens_families_then_tunes_the_best_one_fully(
    toy, budget, n_short, n_full
) -> None:
    strategy = Hierarchical(problem_for(toy, budget * toy.max_epochs), 0)
    assert strategy.parameter == "arch" and strategy.short_epochs == 3
    done = serial(strategy, toy)
    short = [(s, c) for s, c in done if s.epochs == 3]
    full = [s for s, _ in done if s.epochs == toy.max_epochs]
    assert len(short) == n_short and len(full) == n_full
    assert [s.epochs for s, _ in done] == [3] * n_short + [toy.max_epochs] * n_full
    assert sum(s.epochs for s, _ in done) <= budget * toy.max_epochs
    if n_short:
        families = [s.config["arch"] for s, _ in short]
        assert abs(families.count("deep") - families.count("linear")) <= 1  # taken in turn
        best_spec = min(short, key=lambda sc: sc[1])[0]
        assert strategy.chosen == [best_spec.config["arch"]]
        assert {s.config["arch"] for s in full} == set(strategy.chosen)
        assert config_key(full[0].config) == config_key(best_spec.config)  # warm start


def test_hierarchical_can_keep_two_families_and_waits_between_stages(toy) -> None:
    problem = problem_for(toy, 6 * toy.max_epochs)
    strategy = Hierarchical(problem, 0, family_fraction=0.5, n_families=2)
    shorts = [strategy.ask(10**6) for _ in range(strategy.n_short)]
    assert strategy.ask(10**6) is None  # no family chosen while stage 1 is pending
    for spec in reversed(shorts):
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())
    spec = strategy.ask(10**6)
    assert spec.epochs == toy.max_epochs and sorted(strategy.chosen) == ["deep", "linear"]
