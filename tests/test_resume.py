"""The runner with several trials in flight, and resumed studies, all in this process.

``ScrambledExecutor`` stands in for a pool of workers: evaluations end one at a time in a
deterministic but scrambled order, so the asynchronous loop and its replay are tested without
Dask (that is ``test_parallel.py``). An interrupted run is simulated by copying a prefix of a
finished study's records (the order they were told) into a new store and resuming from it.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import prior_for, record_prior

from mfnas.execution.checkpoints import SCRATCH, Plan
from mfnas.execution.executors import Outcome, SerialExecutor, evaluate_trial
from mfnas.execution.runner import ResumeError, run_study
from mfnas.store import Store, TrialRecord
from mfnas.strategies import TrialSpec
from mfnas.tasks import make_task
from mfnas.tasks.base import Task
from mfnas.tasks.toy import ToyTask
from mfnas.testing.strategy import strategy_params

NAMES = strategy_params()


class ScrambledExecutor:
    """``slots`` evaluations in flight; ``wait`` ends one picked by trial id, not by age.

    Records the most epochs ever in flight at once.
    """

    def __init__(self, task: Task, slots: int) -> None:
        self.task, self.slots = task, slots
        self.pending: list[tuple[TrialSpec, int, Plan]] = []
        self.most_in_flight = 0

    def now(self) -> float:
        return 0.0

    def submit(self, spec: TrialSpec, seed: int, plan: Plan = SCRATCH, stop_at=None) -> None:
        assert len(self.pending) < self.slots
        self.pending.append((spec, seed, plan))
        charged = sum(s.epochs - p.continued_from for s, _, p in self.pending)
        self.most_in_flight = max(self.most_in_flight, charged)

    def wait(self) -> list[Outcome]:
        spec, seed, plan = self.pending.pop((7 * self.pending[-1][0].trial_id) % len(self.pending))
        result, error = evaluate_trial(self.task, spec.config, spec.epochs, seed, plan)
        return [Outcome(spec, result, error, 0.0, 0.0)]


def study(tmp_path, task, name, budget, executor=None, history=()) -> list[TrialRecord]:
    """The records of one study (``budget`` full trainings), resumed from ``history`` if any."""
    path = tmp_path / f"{name}-{len(history)}-{executor is None}.sqlite"
    with Store(path) as store:
        for record in history:
            store.add(record)
        prior = prior_for(name, record_prior(task)) if isinstance(task, ToyTask) else ()
        run_study(
            task,
            name,
            0,
            budget * task.max_epochs,
            store,
            executor=executor,
            resume=bool(history),
            prior=prior,
        )
        return store.records()


def key(record: TrialRecord) -> tuple:
    return record.trial_id, record.epochs, record.config, record.curve, record.status


def assert_complete(records: list[TrialRecord], budget_epochs: int) -> None:
    """No trial id missing or recorded twice, and the budget kept."""
    assert sorted(r.trial_id for r in records) == list(range(len(records)))
    assert sum(r.epochs for r in records) <= budget_epochs


@pytest.mark.parametrize("name", NAMES)
def test_trials_in_flight_count_against_the_budget(name, toy, tmp_path) -> None:
    executor = ScrambledExecutor(toy, slots=3)
    records = study(tmp_path, toy, name, 4, executor)
    assert_complete(records, 4 * toy.max_epochs)
    assert executor.most_in_flight <= 4 * toy.max_epochs
    assert any(r.epochs == toy.max_epochs for r in records)
    if name == "random":  # full fidelity only: the same trials as a serial run, and all of them
        serial = study(tmp_path, toy, name, 4)
        assert sorted(map(key, records)) == sorted(map(key, serial)) and len(records) == 4


@pytest.mark.parametrize("name", NAMES)
def test_a_resumed_serial_study_ends_as_the_uninterrupted_one(name, toy, tmp_path) -> None:
    whole = study(tmp_path, toy, name, 3)
    cut = len(whole) // 2
    resumed = study(tmp_path, toy, name, 3, history=whole[:cut])
    assert [key(r) for r in resumed] == [key(r) for r in whole]
    assert [r.asked_after for r in resumed] == list(range(len(whole)))
    assert all(b.end >= a.end for a, b in itertools.pairwise(resumed))  # one clock


@pytest.mark.parametrize("name", ["random", "hyperband", "evolution", "smac-hb"])
def test_a_resumed_parallel_study_reruns_what_was_in_flight(name, toy, tmp_path) -> None:
    whole = study(tmp_path, toy, name, 4, ScrambledExecutor(toy, slots=3))
    cut = len(whole) // 2
    told = {r.trial_id for r in whole[:cut]}
    assert set(range(max(told) + 1)) - told, "trials asked before a told one were in flight"
    resumed = study(tmp_path, toy, name, 4, ScrambledExecutor(toy, slots=3), whole[:cut])
    assert resumed[:cut] == whole[:cut]
    assert_complete(resumed, 4 * toy.max_epochs)
    if name == "random":
        assert sorted(map(key, resumed)) == sorted(map(key, whole))


def test_a_finished_study_is_not_run_again(toy, tmp_path) -> None:
    with Store(tmp_path / "t.sqlite") as store:
        first = run_study(toy, "hyperband", 0, 3 * toy.max_epochs, store)
        again = run_study(toy, "hyperband", 0, 3 * toy.max_epochs, store, resume=True)
        assert store.is_finished("hyperband", 0) and len(store.records()) == first.trials
    assert again == first


def test_a_replay_that_diverges_is_a_clear_error(toy, tmp_path) -> None:
    whole = study(tmp_path, toy, "evolution", 3)
    tampered = [*whole[:2], TrialRecord(**{**vars(whole[2]), "config": {"arch": "linear"}})]
    with pytest.raises(ResumeError, match="resume evolution seed 0: trial 2 was 27 epochs of"):
        study(tmp_path, toy, "evolution", 3, history=tampered)


def test_toy_faulty_crashes_repeatably_and_the_run_goes_on(tmp_path) -> None:
    task = make_task("toy-faulty")
    runs = [study(tmp_path / run, task, "random", 40) for run in ("a", "b") if not (
        tmp_path / run).mkdir()]  # fmt: skip
    records = runs[0]
    crashed = [r for r in records if r.status == "crashed"]
    errors = {r.error for r in crashed}
    assert len(records) == 40 and 4 <= len(crashed) <= 18
    assert errors == {"RuntimeError: simulated training failure", "non-finite metric (diverged)"}
    assert all(r.epochs == task.max_epochs and r.seconds >= 0 for r in crashed)
    assert [key(r) for r in runs[1]] == [key(r) for r in records]


def test_serial_executor_runs_one_at_a_time(toy) -> None:
    executor = SerialExecutor(toy)
    spec = TrialSpec(0, toy.space.sample_configuration(), 2)
    executor.submit(spec, 0)
    with pytest.raises(RuntimeError, match="one evaluation at a time"):
        executor.submit(spec, 0)
    (outcome,) = executor.wait()
    assert outcome.spec is spec and len(outcome.result.curve) == 2 and outcome.error is None
