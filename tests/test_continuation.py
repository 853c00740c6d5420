"""Continuation instead of retraining (``mfnas.execution.checkpoints``): checkpoint files, the
plans of a study, the budget it charges in a replay (a property test over strategies, budgets
and worker counts), live toy runs with and without a cap, and a resume that rebuilds them.

Bitwise equality of a continued training with one from scratch is proved per task by the Task
suite (``mfnas.testing.task``) and per model family in the recsys and rating tests.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import pytest
from ConfigSpace import Configuration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfnas.execution.checkpoints import (
    CheckpointError,
    Continuations,
    Plan,
    load_checkpoint,
    save_checkpoint,
)
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.executors import Outcome, SerialExecutor
from mfnas.execution.runner import run_study
from mfnas.replay.base import ReplayTask
from mfnas.spaces import plain_config
from mfnas.store import Status, Store, TrialRecord
from mfnas.strategies import STRATEGIES, TrialSpec
from mfnas.strategies.base import PriorCurve
from mfnas.tasks.base import Result
from mfnas.tasks.toy import ToyTask
from mfnas.testing.fixtures import prior_for

IDENTITY = {"task": "toy", "config": "x=0.5", "seed": 3, "epochs": 2}
MULTI_FIDELITY = ["hyperband", "smac-hb", "optuna-hb", "surrogate-hb"]


def test_a_checkpoint_file_round_trips_and_is_written_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "a.ckpt")
    size = save_checkpoint(path, {"weights": [1.0, 2.0]}, IDENTITY)
    assert size == os.path.getsize(path) > 0
    assert os.listdir(tmp_path) == ["a.ckpt"]  # no partial file stays behind
    assert load_checkpoint(path, IDENTITY) == {"weights": [1.0, 2.0]}


def test_a_checkpoint_of_another_training_or_none_at_all_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "a.ckpt")
    save_checkpoint(path, None, IDENTITY)
    with pytest.raises(CheckpointError, match="holds another training"):
        load_checkpoint(path, {**IDENTITY, "epochs": 3})
    with pytest.raises(CheckpointError, match=r"not found on this worker.*share"):
        load_checkpoint(str(tmp_path / "gone.ckpt"), IDENTITY)
    Path(path).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(path, IDENTITY)
    with pytest.raises(CheckpointError, match=r"cannot write checkpoint.*share"):
        save_checkpoint(str(tmp_path / "no-such-folder" / "b.ckpt"), None, IDENTITY)


def _ok(spec: TrialSpec, continued_from: int, size: int | None) -> tuple[TrialRecord, Result]:
    """A successful record (and its result) of ``spec``, as if ``size`` bytes were written."""
    extra = {} if size is None else {"checkpoint_bytes": size}
    curve = [0.1 * (e + 1) for e in range(spec.epochs)]
    result = Result(tuple(curve), {"score": curve[-1]}, None, 1.0, spec.epochs, extra=extra)
    record = TrialRecord(
        "s", 0, spec.trial_id, plain_config(spec.config), spec.epochs, curve, {}, None,
        Status.OK, None, 1.0, 0.0, 1.0, extra, 0, continued_from,
    )  # fmt: skip
    return record, result


def _finish(book: Continuations, spec: TrialSpec, plan: Plan, size: int = 100) -> None:
    """The evaluation of ``spec`` ran as ``plan`` says: its file is written, its record ends."""
    if plan.save is not None:
        Path(plan.save).write_bytes(b"x" * size)
    record, result = _ok(spec, plan.continued_from, size if plan.save else None)
    book.ended(spec, record, result, plan, files=True)


def test_plans_continue_the_furthest_training_and_keep_only_it(tmp_path: Path) -> None:
    configs = ToyTask().space.sample_configuration(2)
    book = Continuations(max_epochs=9, folder=tmp_path)
    first = TrialSpec(0, configs[0], 3)
    plan = book.plan(first)
    assert plan.start is None and plan.save is not None  # from scratch, kept for later
    _finish(book, first, plan)
    full = TrialSpec(1, configs[0], 9)
    promoted = book.plan(full)
    assert (promoted.continued_from, promoted.load, promoted.save) == (3, plan.save, None)
    _finish(book, full, promoted)
    assert Path(plan.save).exists(), "full fidelity is never continued: 3 epochs stay"
    assert book.plan(TrialSpec(2, configs[0], 3)).start is None  # not beyond: trains again
    assert book.plan(TrialSpec(3, configs[1], 9)).start is None  # another configuration
    longer = TrialSpec(4, configs[0], 6)
    middle = book.plan(longer)
    assert Path(plan.save).exists()
    _finish(book, longer, middle)
    assert not Path(plan.save).exists(), "the shorter checkpoint is superseded once read"
    assert book.plan(TrialSpec(5, configs[0], 9)).continued_from == 6


def test_the_cap_evicts_the_least_recently_used_and_a_lost_file_means_scratch(
    tmp_path: Path,
) -> None:
    configs = ToyTask().space.sample_configuration(3)
    book = Continuations(max_epochs=9, folder=tmp_path, cap_bytes=250)
    plans = []
    for i, config in enumerate(configs):
        spec = TrialSpec(i, config, 1)
        plans.append(book.plan(spec))
        _finish(book, spec, plans[-1])
    assert book.stats["evicted"] == 1 and not Path(plans[0].save).exists()
    assert book.plan(TrialSpec(3, configs[0], 3)).start is None  # evicted: from scratch
    Path(plans[1].save).unlink()  # gone behind the run's back
    assert book.plan(TrialSpec(4, configs[1], 3)).start is None
    assert book.plan(TrialSpec(5, configs[2], 3)).continued_from == 1
    book.close()
    assert not tmp_path.exists()


def _replay_study(task: ReplayTask, strategy: str, budget: int, workers: int, prior) -> list:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.sqlite") as store:
        executor = SimulatedExecutor(task, workers, timer=lambda: 0.0)
        run_study(task, strategy, 0, budget, store, executor=executor, prior=prior)
        return store.records()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is a bug, never bad luck
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    strategy=st.sampled_from(STRATEGIES.installed_names()),
    full_trainings=st.integers(1, 6),
    workers=st.integers(1, 4),
    mode=st.sampled_from(["toy_table", "toy_surrogate"]),
)
def test_a_replay_charges_what_it_trains_and_never_more_than_the_budget(
    strategy: str,
    full_trainings: int,
    workers: int,
    mode: str,
    request: pytest.FixtureRequest,
    toy_prior: tuple[PriorCurve, ...],
) -> None:
    """Every trial continues the furthest training of its configuration that the strategy had
    been told of when it asked (below full fidelity), and pays only the epochs after it."""
    task: ReplayTask = request.getfixturevalue(mode)
    budget = full_trainings * task.max_epochs
    records = _replay_study(task, strategy, budget, workers, prior_for(strategy, toy_prior))
    assert sum(r.charged_epochs for r in records) <= budget
    for record in records:
        told = records[: record.asked_after]  # the store's order is the order of the tells
        reached = [
            r.epochs
            for r in told
            if r.config == record.config and r.status is Status.OK and r.epochs < task.max_epochs
        ]
        expected = max((e for e in reached if e < record.epochs), default=0)
        assert record.continued_from == expected
        if record.status is Status.OK:
            config = Configuration(task.space, values=record.config)
            new = task.cost(config, record.epochs) - (
                task.cost(config, expected) if expected else 0.0
            )
            assert record.seconds == pytest.approx(new)


@pytest.mark.parametrize("strategy", MULTI_FIDELITY)
def test_continuation_buys_more_trials_with_the_same_curves(
    strategy: str, toy_table: ReplayTask, toy_prior: tuple[PriorCurve, ...]
) -> None:
    prior = prior_for(strategy, toy_prior)
    with tempfile.TemporaryDirectory() as folder:
        trials = {}
        for on in (True, False):
            with Store(Path(folder) / f"{on}.sqlite") as store:
                executor = SimulatedExecutor(toy_table, 1, timer=lambda: 0.0)
                budget = 6 * toy_table.max_epochs
                run_study(
                    toy_table, strategy, 0, budget, store, executor=executor, prior=prior,
                    continuation=on,
                )  # fmt: skip
                trials[on] = store.records()
    assert all(r.continued_from == 0 for r in trials[False])
    assert any(r.continued_from > 0 for r in trials[True])
    assert len(trials[True]) > len(trials[False])
    first = {(str(r.config), r.epochs): r.curve for r in trials[False]}
    for record in trials[True]:  # what both evaluated, they evaluated alike
        assert first.get((str(record.config), record.epochs), record.curve) == record.curve


def _live(folder: Path, strategy: str, cap: int | None = None, executor=None, resume=False):
    task = ToyTask()
    folder.mkdir(parents=True, exist_ok=True)
    with Store(folder / "trials.sqlite") as store:
        summary = run_study(
            task, strategy, 0, 4 * task.max_epochs, store, executor=executor, resume=resume,
            checkpoints=folder / "checkpoints", checkpoint_bytes=cap,
        )  # fmt: skip
        return summary, store.records(), store.diagnostics()[(strategy, 0)]


@pytest.mark.parametrize("cap", [None, 300])
def test_a_live_toy_study_continues_from_files_and_the_cap_changes_cost_only(
    tmp_path: Path, cap: int | None
) -> None:
    summary, records, diagnostics = _live(tmp_path, "hyperband", cap)
    task = ToyTask()
    continued = [r for r in records if r.continued_from]
    assert continued and summary.epochs_spent == sum(r.charged_epochs for r in records)
    assert summary.epochs_spent <= 4 * task.max_epochs
    for record in records:  # every curve is the one training from scratch gives
        config = Configuration(task.space, values=record.config)
        fresh = SerialExecutor(task)
        fresh.submit(TrialSpec(0, config, record.epochs), 0)
        assert fresh.wait()[0].result.curve == tuple(record.curve)
    stats = diagnostics["continuation"]
    assert stats["written"] > 0 and stats["continued"] == len(continued)
    assert (stats["evicted"] > 0) == (cap is not None)
    assert stats["peak_bytes"] <= (cap or stats["peak_bytes"])
    assert not (tmp_path / "checkpoints").exists(), "a finished study leaves no checkpoint"


class StoppingExecutor(SerialExecutor):
    """Serial, but the run is interrupted (KeyboardInterrupt) when the ``stop_at``-th
    evaluation would end: after it wrote its checkpoint, before its record is committed."""

    def __init__(self, task: ToyTask, stop_at: int) -> None:
        super().__init__(task)
        self.stop_at, self.ended = stop_at, 0

    def wait(self) -> list[Outcome]:
        outcomes = super().wait()
        self.ended += 1
        if self.ended == self.stop_at:
            raise KeyboardInterrupt
        return outcomes


@pytest.mark.parametrize("stop_at", [2, 7, 15])
def test_a_resumed_live_study_rebuilds_its_checkpoints_and_ends_alike(
    tmp_path: Path, stop_at: int
) -> None:
    _, reference, _ = _live(tmp_path / "reference", "smac-hb")
    folder = tmp_path / "stopped"
    (folder / "checkpoints").mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt):
        _live(folder, "smac-hb", executor=StoppingExecutor(ToyTask(), stop_at))
    kept = folder / "checkpoints" / "junk.ckpt.partial-1"
    kept.write_bytes(b"half")  # what a kill in the middle of a write leaves
    for path in (folder / "checkpoints").iterdir():
        if path.suffix == ".ckpt":
            assert pickle.loads(path.read_bytes())["format"] == 1
    _, resumed, _ = _live(folder, "smac-hb", resume=True)
    key = lambda r: (r.trial_id, str(r.config), r.epochs, r.continued_from, r.curve)  # noqa: E731
    assert [key(r) for r in resumed] == [key(r) for r in reference]
    assert not (folder / "checkpoints").exists()


@pytest.mark.parametrize("strategy", ["random", "grid"])
def test_single_fidelity_strategies_never_continue(strategy: str, toy_table: ReplayTask) -> None:
    records = _replay_study(toy_table, strategy, 4 * toy_table.max_epochs, 1, ())
    assert all(r.continued_from == 0 for r in records)
