"""Budgets in seconds (``--budget-seconds``): a property test over strategies, budgets and
worker counts on a simulated clock (no trial starts at or after S; no study runs more than one
epoch past it), the trainers' stop between epochs, and the command line's refusals.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from ConfigSpace import Configuration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfnas.cli.bench import main as bench
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.runner import run_study
from mfnas.execution.spec import RunSpec, SpecError
from mfnas.replay.base import ReplayTask
from mfnas.replay.tabular import TabularTask
from mfnas.store import Status, Store
from mfnas.strategies import STRATEGIES, TrialSpec
from mfnas.strategies.base import PriorCurve
from mfnas.tasks import make_task
from mfnas.tasks.base import stopping_at
from mfnas.tasks.training import train_epochs
from mfnas.testing.fixtures import fit_toy_surrogate, prior_for


@pytest.fixture(scope="module")
def timed(toy_table: TabularTask) -> dict[str, ReplayTask]:
    """The toy table with epochs of 1 to 3 seconds (the recorded ones take microseconds),
    and a surrogate fitted on it."""
    recordings = [
        replace(r, epoch_seconds=tuple(1.0 + (r.id + e) % 3 for e in range(len(r.curve))))
        for r in toy_table.recordings
    ]
    table = TabularTask(
        "toy", toy_table.space, recordings, toy_table.max_epochs, "score", True, "timed"
    )
    return {"table": table, "surrogate": fit_toy_surrogate(table)}


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    strategy=st.sampled_from(STRATEGIES.installed_names()),
    seconds=st.floats(5.0, 400.0),
    workers=st.integers(1, 4),
    surrogate=st.booleans(),
    optimism=st.sampled_from([0.5, 1.0, 8.0]),
)
def test_a_study_never_starts_a_trial_after_s_nor_runs_an_epoch_past_it(
    strategy: str,
    seconds: float,
    workers: int,
    surrogate: bool,
    optimism: float,
    timed: dict[str, ReplayTask],
    toy_prior: tuple[PriorCurve, ...],
) -> None:
    """``optimism`` scales the epochs the strategy plans with: at 8 its first trials overrun S
    and are stopped (the estimate is corrected by what the study measures)."""
    task = timed["surrogate" if surrogate else "table"]
    budget_epochs = max(1, int(optimism * seconds / task.seconds_per_epoch()))
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.sqlite") as store:
        run_study(
            task, strategy, 0, budget_epochs, store,
            executor=SimulatedExecutor(task, workers, timer=lambda: 0.0),
            prior=prior_for(strategy, toy_prior), budget_seconds=seconds,
        )  # fmt: skip
        records = store.records()
    for record in records:
        assert record.start < seconds, "no trial starts at or after S"
        if record.end > seconds and record.status is Status.OK:
            last_epoch = record.extra["epoch_seconds"][record.epochs - 1]
            assert record.end - last_epoch < seconds, "it stopped after the epoch crossing S"
            asked = record.extra.get("asked_epochs", record.epochs)
            assert record.epochs <= asked
        if "asked_epochs" in record.extra:  # stopped: only by crossing S
            assert record.end >= seconds and record.epochs < record.extra["asked_epochs"]


def test_the_simulated_clock_stops_a_trial_after_the_epoch_crossing_s(
    timed: dict[str, ReplayTask],
) -> None:
    task = timed["table"]
    config = Configuration(task.space, values=task.recordings[0].config)
    clock = SimulatedExecutor(task, timer=lambda: 0.0)
    costs = task.recordings[0].epoch_seconds
    stop = sum(costs[:3]) - 0.5  # inside the third epoch
    clock.submit(TrialSpec(0, config, 9), 0, stop_at=stop)
    (outcome,) = clock.wait()
    assert outcome.result is not None and outcome.result.epochs == 3
    assert outcome.end == pytest.approx(sum(costs[:3])) and outcome.end - costs[2] < stop


def test_a_trainer_stops_after_the_epoch_that_crosses_the_stop_time() -> None:
    rounds: list[int] = []

    def epoch() -> float:
        rounds.append(1)
        return 0.5

    with stopping_at(time.time()):  # already come: one whole epoch, then stop
        losses, vals, seconds = train_epochs(5, epoch, lambda: {"x": 1.0})
    assert (len(losses), len(vals), len(seconds), len(rounds)) == (1, 1, 1, 1)
    losses, _, _ = train_epochs(3, epoch, lambda: {"x": 1.0})  # outside: all of them
    assert len(losses) == 3


def test_a_stopped_training_is_a_result_of_the_epochs_it_reached(synthetic_rating_task) -> None:
    task = synthetic_rating_task
    config = task.space.get_default_configuration()
    with stopping_at(time.time()):
        stopped = task.evaluate(config, 4, 7)
    assert stopped.epochs == len(stopped.curve) == 1
    assert stopped.curve == task.evaluate(config, 1, 7).curve


@pytest.fixture()
def synthetic_rating_task(monkeypatch: pytest.MonkeyPatch):
    import mfnas.data.movielens
    from mfnas.testing.fixtures import synthetic_ratings

    monkeypatch.setattr(mfnas.data.movielens, "load_ml100k", lambda *a, **k: synthetic_ratings())
    return make_task("recsys-rating", device="cpu", max_epochs=4)


def test_the_spec_takes_one_budget_and_a_sane_number_of_seconds() -> None:
    assert RunSpec("toy", budget=None, budget_seconds=60).budget_seconds == 60
    for values in ({"budget_seconds": 60}, {"budget": None}, {"budget": None, "budget_seconds": 0}):
        with pytest.raises(SpecError):
            RunSpec("toy", **values)
    spec = RunSpec("toy", budget=None, budget_seconds=90.5)
    assert "--budget-seconds 90.5" in spec.command("out") and "--budget " not in spec.command("o")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--budget", "3", "--budget-seconds", "60"], "--budget or --budget-seconds, not both"),
        (["--budget-seconds", "0"], "positive number of seconds"),
        (["--budget-seconds", "60"], "needs the cost of an epoch of toy"),
    ],
)
def test_the_command_line_refuses_in_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench(["--task", "toy", "--quiet", "--out", str(tmp_path / "run"), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and message in err[0]
    assert not (tmp_path / "run").exists()


def test_a_replay_with_a_seconds_budget_publishes_over_seconds(tmp_path: Path) -> None:
    """On the recorded recsys table: 300 simulated seconds per strategy and seed."""
    out, seconds = tmp_path / "run", 300
    argv = ["--task", "recsys", "--mode", "tabular", "--seeds", "1"]
    argv += ["--strategies", "random,hyperband", "--budget-seconds", f"{seconds}"]
    assert bench([*argv, "--quiet", "--out", str(out)]) == 0
    board = (out / "leaderboard.md").read_text()
    assert f"Budget: {seconds:g} seconds per strategy and seed" in board
    with Store(out / "trials.sqlite", readonly=True) as store:
        assert store.meta()["budget_seconds"] == seconds
        assert all(r.start < seconds for r in store.records())
    assert bench(["--resume", "--quiet", "--out", str(out)]) == 0  # a finished run resumes


class _Interrupted(SimulatedExecutor):
    """Simulated workers whose ``stop_at``-th wait is interrupted (KeyboardInterrupt)."""

    def __init__(self, task: ReplayTask, stop_at: int) -> None:
        super().__init__(task, 1, timer=lambda: 0.0)
        self.stop_at, self.waits = stop_at, 0

    def wait(self):
        self.waits += 1
        if self.waits == self.stop_at:
            raise KeyboardInterrupt
        return super().wait()


@pytest.mark.parametrize("strategy", ["random", "hyperband", "surrogate-hb"])
@pytest.mark.parametrize("stop_at", [3, 7])
def test_a_resumed_seconds_study_replays_its_asks_and_ends_alike(
    strategy: str, stop_at: int, timed: dict[str, ReplayTask], tmp_path: Path
) -> None:
    task, seconds = timed["table"], 600.0
    budget_epochs = int(seconds / task.seconds_per_epoch())

    def study(name: str, executor: SimulatedExecutor, resume: bool = False) -> list:
        with Store(tmp_path / f"{name}.sqlite") as store:
            run_study(
                task, strategy, 0, budget_epochs, store, executor=executor, resume=resume,
                budget_seconds=seconds,
            )  # fmt: skip
            return store.records()

    reference = study("reference", SimulatedExecutor(task, 1, timer=lambda: 0.0))
    with pytest.raises(KeyboardInterrupt):
        study("stopped", _Interrupted(task, stop_at))
    resumed = study("stopped", SimulatedExecutor(task, 1, timer=lambda: 0.0), resume=True)
    key = lambda r: (r.trial_id, r.config, r.epochs, r.continued_from, r.start, r.end)  # noqa: E731
    assert [key(r) for r in resumed] == [key(r) for r in reference]
