"""The conformance suite: every registered strategy on ``toy`` keeps the Strategy contract,
live and in both replay modes (tabular, surrogate) on simulated workers.

Valid configurations (conditions included) within the fidelity range, plain types in the
records, the same trials for the same seed and others for another, the budget never exceeded
(tiny budgets included), several pending trials and out-of-order tells, crashed tells, and a
full-fidelity incumbent. Strategies that declare ``uses_prior`` get recorded toy curves as
``problem.prior`` (the problems driven directly carry them for every strategy: the others
ignore them). Strategy-specific behaviour lives in the tests named after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from ConfigSpace import Configuration
from conftest import prior_for, record_prior

from mfnas.cli.collect import main as collect_main
from mfnas.direction import Direction
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.runner import run_study
from mfnas.replay.surrogate import SurrogateTask, fit_surrogate
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import plain_config
from mfnas.store import Store, TrialRecord, incumbent
from mfnas.strategies import STRATEGIES, Problem, Strategy, TrialSpec, make_strategy
from mfnas.strategies.base import PriorCurve
from mfnas.tasks.base import Result
from mfnas.tasks.toy import ToyTask

NAMES = list(STRATEGIES)


@pytest.fixture
def toy_problem(toy_problem: Problem, toy_prior: tuple[PriorCurve, ...]) -> Problem:
    """The shared toy problem with recorded curves (read only by ``uses_prior`` strategies)."""
    return replace(toy_problem, prior=toy_prior)


@dataclass
class Drive:
    """What ``drive`` saw: every told (spec, result), the most trials pending at once, and how
    often the strategy waited (returned None while trials were pending)."""

    told: list[tuple[TrialSpec, Result | None]] = field(default_factory=list)
    max_pending: int = 0
    waits: int = 0

    @property
    def spent(self) -> int:
        return sum(spec.epochs for spec, _ in self.told)


def drive(
    strategy: Strategy,
    task: ToyTask,
    budget: int,
    pending: int = 1,
    crash: Callable[[TrialSpec], bool] = lambda spec: False,
) -> Drive:
    """Run ``strategy`` like a pool of ``pending`` workers until it proposes nothing more.

    Epochs are charged when a trial is asked, so ``budget_left`` accounts for pending trials.
    While fewer than ``pending`` trials run, the strategy is asked for more; then the newest
    half of the pending trials is told first (out of order), or all of them when the strategy
    waits for results. Every proposal is checked against the contract as it comes.
    """
    seen = Drive()
    running: list[TrialSpec] = []
    ids: set[int] = set()
    charged = 0
    while True:
        waiting = False
        while len(running) < pending:
            left = budget - charged
            spec = strategy.ask(left)
            if spec is None:
                waiting = bool(running)
                seen.waits += waiting
                break
            assert spec.trial_id not in ids, "trial ids are unique"
            assert task.min_epochs <= spec.epochs <= min(task.max_epochs, left)
            assert isinstance(spec.config, Configuration)
            assert spec.config.config_space == task.space
            spec.config.check_valid_configuration()  # raises on a violated condition or bound
            ids.add(spec.trial_id)
            charged += spec.epochs
            running.append(spec)
        if not running:
            return seen
        seen.max_pending = max(seen.max_pending, len(running))
        n_tell = len(running) if waiting else max(1, len(running) // 2)
        for spec in reversed(running[-n_tell:]):  # newest first
            result = None if crash(spec) else task.evaluate(spec.config, spec.epochs, 0)
            result = result.for_strategy() if result is not None else None
            strategy.tell(spec, result)
            seen.told.append((spec, result))
        running = running[:-n_tell]


def study(folder, toy: ToyTask, name: str, seed: int, budget: int) -> list[TrialRecord]:
    """The records of one serial ``run_study`` of ``budget`` full trainings (in ``folder``)."""
    with Store(folder / "trials.sqlite") as store:
        prior = prior_for(name, record_prior(toy))
        run_study(toy, name, seed, budget * toy.max_epochs, store, prior=prior)
        return store.records()


@pytest.mark.parametrize("name", NAMES)
def test_proposals_are_valid_configurations_within_the_budget(name, toy, toy_problem) -> None:
    seen = drive(make_strategy(name, toy_problem, seed=0), toy, toy_problem.budget_epochs)
    assert seen.told and seen.spent <= toy_problem.budget_epochs


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trials_other_seed_other_trials(name, toy, tmp_path) -> None:
    runs = {}
    for run, seed in (("first", 1), ("again", 1), ("other", 2)):
        (tmp_path / run).mkdir()
        records = study(tmp_path / run, toy, name, seed, budget=6)
        runs[run] = [(r.config, r.epochs, r.curve) for r in records]
    assert runs["first"] == runs["again"]
    assert runs["first"] != runs["other"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("budget", [1, 2, 4])
def test_budget_is_kept_and_the_incumbent_is_fully_trained(name, budget, toy, tmp_path) -> None:
    records = study(tmp_path, toy, name, 0, budget)
    assert records and sum(r.epochs for r in records) <= budget * toy.max_epochs
    best = incumbent(records, toy.max_epochs, toy.direction)
    assert best is not None and best.epochs == toy.max_epochs
    for record in records:  # records hold plain Python types only
        assert all(type(v) in (int, float, str, bool) for v in record.config.values())
        assert type(record.epochs) is int and all(type(v) is float for v in record.curve)
        Configuration(toy.space, plain_config(record.config)).check_valid_configuration()


@pytest.mark.parametrize("name", NAMES)
def test_nothing_is_proposed_that_does_not_fit(name, toy, toy_problem) -> None:
    for left in (0, toy.min_epochs - 1, toy.max_epochs - 1, toy.max_epochs):
        spec = make_strategy(name, toy_problem, seed=0).ask(left)
        assert spec is None or spec.epochs <= left
    tiny = drive(make_strategy(name, toy_problem, seed=0), toy, toy.max_epochs + 3)
    assert tiny.spent <= toy.max_epochs + 3


@pytest.mark.parametrize("name", NAMES)
def test_several_pending_trials_and_out_of_order_tells(name, toy, toy_problem) -> None:
    seen = drive(make_strategy(name, toy_problem, seed=0), toy, toy_problem.budget_epochs, 4)
    assert seen.max_pending >= 2
    assert seen.spent <= toy_problem.budget_epochs
    assert any(spec.epochs == toy.max_epochs for spec, result in seen.told)


@pytest.mark.parametrize("name", NAMES)
def test_crashed_tells_are_accepted(name, toy, toy_problem) -> None:
    crash_odd = drive(
        make_strategy(name, toy_problem, seed=0),
        toy,
        toy_problem.budget_epochs,
        pending=2,
        crash=lambda spec: spec.trial_id % 2 == 1,
    )
    assert any(result is None for _, result in crash_odd.told)
    assert any(result is not None for _, result in crash_odd.told)
    crash_all = drive(
        make_strategy(name, toy_problem, seed=0), toy, 3 * toy.max_epochs, crash=lambda s: True
    )
    assert crash_all.told and crash_all.spent <= 3 * toy.max_epochs


def test_every_strategy_is_registered_under_its_name() -> None:
    assert set(STRATEGIES) == {
        "grid", "random", "one-epoch", "evolution", "smac-bo", "hyperband", "smac-hb",
        "hierarchical", "optuna-tpe", "optuna-hb", "surrogate-hb", "surrogate-hb-nopred",
        "surrogate-hb-warm",
    }  # fmt: skip
    assert all(cls.name == name for name, cls in STRATEGIES.items())


def test_unknown_strategy_is_a_clear_error(toy_problem: Problem) -> None:
    with pytest.raises(KeyError, match="unknown strategy 'nope'"):
        make_strategy("nope", toy_problem, 0)


@pytest.fixture(scope="module")
def toy_table(tmp_path_factory) -> TabularTask:
    """A tabular replay of 40 recorded toy configurations (``python -m mfnas.collect``)."""
    folder = tmp_path_factory.mktemp("toy-curves")
    assert collect_main(["--task", "toy", "--configs", "40", "--out", str(folder), "--quiet"]) == 0
    return TabularTask.from_folder(folder)


@pytest.fixture(scope="module")
def toy_surrogate(toy_table: TabularTask) -> SurrogateTask:
    """A small XGBoost surrogate of the recorded toy table."""
    surrogate, _ = fit_surrogate(
        toy_table.recordings, toy_table.space, toy_table.max_epochs, "score", True,
        params={"n_estimators": 20, "max_depth": 3},
    )  # fmt: skip
    return SurrogateTask(surrogate, "toy-surrogate")


@pytest.mark.parametrize("mode", ["tabular", "surrogate"])
@pytest.mark.parametrize("name", NAMES)
def test_every_strategy_replays_on_simulated_workers(
    name, mode, toy_table, toy_surrogate, tmp_path
) -> None:
    """The same contract in each replay mode, 3 simulated workers: budget, incumbent,
    determinism."""
    task = toy_table if mode == "tabular" else toy_surrogate
    runs = []
    for run in ("first", "again"):
        with Store(tmp_path / f"{run}.sqlite") as store:
            executor = SimulatedExecutor(task, slots=3, timer=lambda: 0.0)
            prior = prior_for(name, record_prior(ToyTask()))
            run_study(task, name, 0, 4 * task.max_epochs, store, executor=executor, prior=prior)
            records = store.records()
        assert sum(r.epochs for r in records) <= 4 * task.max_epochs
        best = incumbent(records, task.max_epochs, Direction.MAXIMIZE)
        assert best is not None and ("recorded_id" in best.extra) == (mode == "tabular")
        runs.append([(r.trial_id, r.config, r.epochs, r.curve, r.end) for r in records])
    assert runs[0] == runs[1]
