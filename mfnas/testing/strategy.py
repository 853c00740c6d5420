"""The Strategy suite: a registered strategy keeps the Strategy contract on ``toy``, live and in
both replay modes (tabular, surrogate) on simulated workers.

What it proves (``mfnas.strategies.base.Strategy``): proposals are valid configurations of the
space (conditions included) within the fidelity range; records hold plain Python types; the
same seed gives the same trials and another seed others; the budget is never exceeded (tiny
budgets included) and nothing is proposed that does not fit; several pending trials and
out-of-order tells are accepted, and so are crashed tells; the run ends with a full-fidelity
incumbent. Strategies that declare ``uses_prior`` get recorded toy curves as ``problem.prior``
(the problems driven directly carry them for every strategy: the others ignore them).

Subclass it in a test module and provide the fixture ``strategy_name``, the name under which
the strategy is registered in ``mfnas.strategies.STRATEGIES`` (``run_study`` builds strategies
by name); a parametrised fixture runs the suite over several::

    class TestEveryStrategy(StrategySuite):
        @pytest.fixture(params=strategy_params())
        def strategy_name(self, request: pytest.FixtureRequest) -> str:
            return request.param

(``strategy_params`` marks the peers from an optional extra ``peers`` and skips them where the
extra is not installed; ``pytest -m peers`` runs just those.)

It needs the session fixtures of ``mfnas.testing.fixtures`` (``toy_prior``, ``toy_table``,
``toy_surrogate``). Strategy-specific behaviour belongs in the strategy's own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.runner import problem_for, run_study
from mfnas.replay.base import ReplayTask
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import plain_config
from mfnas.store import Store, TrialRecord, incumbent
from mfnas.strategies import (
    STRATEGIES,
    Problem,
    Strategy,
    TrialSpec,
    installed,
    make_strategy,
    missing_extra_message,
)
from mfnas.strategies.base import PriorCurve
from mfnas.tasks.base import Result
from mfnas.tasks.toy import ToyTask
from mfnas.testing.fixtures import prior_for


def strategy_params(names: Iterable[str] | None = None) -> list:
    """pytest parameters over registered strategies (default: all, sorted): a strategy from an
    optional extra carries that extra's mark (``peers``) and is skipped, with the line saying
    what to install, where the extra is not installed."""
    params = []
    for name in sorted(STRATEGIES) if names is None else names:
        extra = STRATEGIES.extra_of(name)
        marks = []
        if extra is not None:
            marks.append(getattr(pytest.mark, extra))
            if not installed(name):
                marks.append(pytest.mark.skip(reason=missing_extra_message(name)))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


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


def study(
    folder: Path, task: ToyTask, name: str, seed: int, budget: int, prior: tuple[PriorCurve, ...]
) -> list[TrialRecord]:
    """The records of one serial ``run_study`` of ``budget`` full trainings (in ``folder``)."""
    with Store(folder / "trials.sqlite") as store:
        run_study(task, name, seed, budget * task.max_epochs, store, prior=prior_for(name, prior))
        return store.records()


class StrategySuite:
    """The Strategy contract (module docstring); subclasses provide ``strategy_name``."""

    @pytest.fixture
    def strategy_name(self) -> str:
        raise NotImplementedError("a StrategySuite subclass provides the fixture strategy_name")

    @pytest.fixture
    def task(self) -> ToyTask:
        return ToyTask()

    @pytest.fixture
    def problem(self, task: ToyTask, toy_prior: tuple[PriorCurve, ...]) -> Problem:
        """Five full trainings of ``task``, with recorded curves as the prior."""
        return replace(problem_for(task, budget_epochs=5 * task.max_epochs), prior=toy_prior)

    def test_proposals_are_valid_configurations_within_the_budget(
        self, strategy_name: str, task: ToyTask, problem: Problem
    ) -> None:
        seen = drive(make_strategy(strategy_name, problem, seed=0), task, problem.budget_epochs)
        assert seen.told and seen.spent <= problem.budget_epochs

    def test_same_seed_same_trials_other_seed_other_trials(
        self,
        strategy_name: str,
        task: ToyTask,
        toy_prior: tuple[PriorCurve, ...],
        tmp_path: Path,
    ) -> None:
        runs = {}
        for run, seed in (("first", 1), ("again", 1), ("other", 2)):
            (tmp_path / run).mkdir()
            records = study(tmp_path / run, task, strategy_name, seed, 6, toy_prior)
            runs[run] = [(r.config, r.epochs, r.curve) for r in records]
        assert runs["first"] == runs["again"]
        assert runs["first"] != runs["other"]

    @pytest.mark.parametrize("budget", [1, 2, 4])
    def test_budget_is_kept_and_the_incumbent_is_fully_trained(
        self,
        strategy_name: str,
        budget: int,
        task: ToyTask,
        toy_prior: tuple[PriorCurve, ...],
        tmp_path: Path,
    ) -> None:
        records = study(tmp_path, task, strategy_name, 0, budget, toy_prior)
        assert records and sum(r.charged_epochs for r in records) <= budget * task.max_epochs
        best = incumbent(records, task.max_epochs, task.direction)
        assert best is not None and best.epochs == task.max_epochs
        for record in records:  # records hold plain Python types only
            assert all(type(v) in (int, float, str, bool) for v in record.config.values())
            assert type(record.epochs) is int and all(type(v) is float for v in record.curve)
            Configuration(task.space, plain_config(record.config)).check_valid_configuration()

    def test_nothing_is_proposed_that_does_not_fit(
        self, strategy_name: str, task: ToyTask, problem: Problem
    ) -> None:
        for left in (0, task.min_epochs - 1, task.max_epochs - 1, task.max_epochs):
            spec = make_strategy(strategy_name, problem, seed=0).ask(left)
            assert spec is None or spec.epochs <= left
        tiny = drive(make_strategy(strategy_name, problem, seed=0), task, task.max_epochs + 3)
        assert tiny.spent <= task.max_epochs + 3

    def test_several_pending_trials_and_out_of_order_tells(
        self, strategy_name: str, task: ToyTask, problem: Problem
    ) -> None:
        strategy = make_strategy(strategy_name, problem, seed=0)
        seen = drive(strategy, task, problem.budget_epochs, pending=4)
        assert seen.max_pending >= 2
        assert seen.spent <= problem.budget_epochs
        assert any(spec.epochs == task.max_epochs for spec, result in seen.told)

    def test_crashed_tells_are_accepted(
        self, strategy_name: str, task: ToyTask, problem: Problem
    ) -> None:
        crash_odd = drive(
            make_strategy(strategy_name, problem, seed=0),
            task,
            problem.budget_epochs,
            pending=2,
            crash=lambda spec: spec.trial_id % 2 == 1,
        )
        assert any(result is None for _, result in crash_odd.told)
        assert any(result is not None for _, result in crash_odd.told)
        crash_all = drive(
            make_strategy(strategy_name, problem, seed=0),
            task,
            3 * task.max_epochs,
            crash=lambda spec: True,
        )
        assert crash_all.told and crash_all.spent <= 3 * task.max_epochs

    @pytest.mark.parametrize("replay", ["toy_table", "toy_surrogate"])
    def test_replays_on_simulated_workers(
        self,
        strategy_name: str,
        replay: str,
        toy_prior: tuple[PriorCurve, ...],
        tmp_path: Path,
        request: pytest.FixtureRequest,
    ) -> None:
        """The same contract in each replay mode, 3 simulated workers: budget, incumbent,
        determinism."""
        task: ReplayTask = request.getfixturevalue(replay)
        runs = []
        for run in ("first", "again"):
            with Store(tmp_path / f"{run}.sqlite") as store:
                executor = SimulatedExecutor(task, slots=3, timer=lambda: 0.0)
                prior = prior_for(strategy_name, toy_prior)
                budget = 4 * task.max_epochs
                run_study(task, strategy_name, 0, budget, store, executor=executor, prior=prior)
                records = store.records()
            assert sum(r.charged_epochs for r in records) <= budget
            best = incumbent(records, task.max_epochs, Direction.MAXIMIZE)
            recorded = isinstance(task, TabularTask)  # a table names the recording it answered
            assert best is not None and ("recorded_id" in best.extra) == recorded
            runs.append([(r.trial_id, r.config, r.epochs, r.curve, r.end) for r in records])
        assert runs[0] == runs[1]
