"""Each strategy's own decision time per ask + tell on ``toy`` (pytest-benchmark).

Run with ``pytest benchmarks/perf --benchmark-only
--benchmark-json=benchmarks/perf/strategy_overhead.json`` (the default ``pytest`` run collects
only ``tests/``). Each benchmark round builds a fresh strategy (seed 0, a budget of 100 full
trainings, so no strategy runs out) and warms it up with ``WARMUP`` trials, untimed; the timed
part is ``ROUNDS`` consecutive ask -> evaluate -> tell steps, so SMAC's periodic model refits
(every 8 asks) are included at their real rate. ``extra_info["ms_per_ask_tell"]`` is the
mean round time divided by ``ROUNDS``; it includes one toy evaluation per step, whose own cost
is measured by ``test_toy_evaluation_alone`` (about 0.1 ms) for subtraction.

The peers (``mfnas[peers]``) are measured in the environment that has them, beside two core
strategies as anchors, into their own file: ``pytest benchmarks/perf/test_strategy_overhead.py
--benchmark-only -k "peers_anchor or dehb or asha or bohb" --benchmark-json=
benchmarks/perf/strategy_overhead_peers.json``; where the extra is missing they are skipped.
"""

from __future__ import annotations

import pytest

from mfnas.execution.runner import problem_for
from mfnas.strategies import STRATEGIES, Strategy, make_strategy
from mfnas.tasks.toy import ToyTask
from mfnas.testing.fixtures import record_prior
from mfnas.testing.strategy import strategy_params

WARMUP = 50
ROUNDS = 16
BUDGET_FULL = 100
REPEATS = 5

TOY = ToyTask()


def step(strategy: Strategy) -> None:
    """One ask -> evaluate -> tell, with every result in (serial)."""
    spec = strategy.ask(10**9)
    assert spec is not None, f"{strategy.name} proposed nothing with results all in"
    strategy.tell(spec, TOY.evaluate(spec.config, spec.epochs, 0).for_strategy())


def warm(name: str) -> tuple[tuple[Strategy], dict]:
    """A fresh strategy with ``WARMUP`` trials behind it (pytest-benchmark setup)."""
    prior = record_prior(TOY) if STRATEGIES[name].uses_prior else ()  # -warm needs curves
    strategy = make_strategy(name, problem_for(TOY, BUDGET_FULL * TOY.max_epochs, prior), seed=0)
    for _ in range(WARMUP):
        step(strategy)
    return (strategy,), {}


def rounds(strategy: Strategy) -> None:
    for _ in range(ROUNDS):
        step(strategy)


@pytest.mark.parametrize("name", strategy_params(list(STRATEGIES)))
def test_decision_time_per_ask_and_tell(benchmark, name: str) -> None:
    benchmark.group = "strategy overhead (ask + toy evaluation + tell)"
    benchmark.pedantic(rounds, setup=lambda: warm(name), rounds=REPEATS, iterations=1)
    benchmark.extra_info["steps_per_round"] = ROUNDS
    benchmark.extra_info["warmup_trials"] = WARMUP
    benchmark.extra_info["ms_per_ask_tell"] = 1000 * benchmark.stats.stats.mean / ROUNDS


@pytest.mark.parametrize("name", ["random", "smac-hb"])
def test_peers_anchor(benchmark, name: str) -> None:
    """The same measurement of two core strategies, run beside the peers (their scale)."""
    test_decision_time_per_ask_and_tell(benchmark, name)


def test_toy_evaluation_alone(benchmark) -> None:
    benchmark.group = "baseline"
    config = TOY.space.get_default_configuration()
    benchmark(TOY.evaluate, config, TOY.max_epochs, 0)
    benchmark.extra_info["ms_per_ask_tell"] = 1000 * benchmark.stats.stats.mean
