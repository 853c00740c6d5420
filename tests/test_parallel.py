"""Evaluations on a local Dask cluster: the same budget as serial, faults become crashed trials.

The session's two-worker cluster serves the module (starting one takes seconds). Tasks that
misbehave on purpose kill their worker or hang on one configuration, the first the strategy
proposes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from ConfigSpace import Configuration

from mfnas.cli.bench import main
from mfnas.execution.checkpoints import Plan
from mfnas.execution.dask_executor import DaskExecutor
from mfnas.execution.runner import problem_for, run_study
from mfnas.spaces import config_seed, plain_config
from mfnas.store import Store, TrialRecord
from mfnas.strategies import TrialSpec, make_strategy
from mfnas.tasks.base import Result, Task
from mfnas.tasks.toy import ToyTask

# read at collection, before a cluster starts: a nanny writes its variables into this process's
# environment before it spawns a worker
OUTER_MALLOC_TRIM = os.environ.get("MALLOC_TRIM_THRESHOLD_")


@pytest.fixture
def client(dask_client):
    """The session's two-worker cluster (``conftest.dask_client``), with both workers up."""
    dask_client.wait_for_workers(2, timeout=60)
    return dask_client


def test_local_workers_keep_the_default_allocator_and_one_thread(client) -> None:
    """Dask's nanny would set MALLOC_TRIM_THRESHOLD_, which turns off glibc's adaptive mmap
    threshold: every large tensor then page-faults in afresh (2.8x the CPU time of an MF
    evaluation). The local cluster starts its workers without it (or with the user's own)."""
    environ = client.run(lambda: dict(os.environ))
    assert len(environ) == 2
    for env in environ.values():
        assert env.get("MALLOC_TRIM_THRESHOLD_") == OUTER_MALLOC_TRIM
        assert env["OMP_NUM_THREADS"] == "1"


def run(tmp_path: Path, task: Task, name: str, budget: int, executor=None) -> list[TrialRecord]:
    with Store(tmp_path / f"{name}-{executor is None}.sqlite") as store:
        run_study(task, name, 0, budget * task.max_epochs, store, executor=executor)
        return store.records()


def first_proposal(task: Task, budget: int) -> dict:
    """The configuration random search with seed 0 proposes first."""
    problem = problem_for(task, budget * task.max_epochs)
    return plain_config(make_strategy("random", problem, 0).ask(problem.budget_epochs).config)


class MisbehavingToy(ToyTask):
    """Toy whose evaluation of ``victim`` notes its attempt in ``log`` and then kills its
    worker process (``how == "die"``) or hangs (``how == "hang"``)."""

    def __init__(self, victim: dict, log: Path, how: str) -> None:
        super().__init__()
        self.victim, self.log, self.how = victim, log, how

    def _evaluate(self, config, epochs, seed, start=None) -> Result:
        if plain_config(config) == self.victim:
            with open(self.log, "a") as handle:
                handle.write(f"{os.getpid()}\n")
            if self.how == "die":
                os._exit(1)
            time.sleep(60)
        return super()._evaluate(config, epochs, seed, start)


def test_two_workers_spend_the_same_budget_on_the_same_trials(client, toy, tmp_path) -> None:
    serial = run(tmp_path, toy, "random", 6)
    parallel = run(tmp_path, toy, "random", 6, DaskExecutor(client, toy, 2))
    assert sum(r.epochs for r in parallel) == sum(r.epochs for r in serial) == 6 * 27
    key = lambda r: (r.trial_id, r.config, r.epochs, r.curve)  # noqa: E731
    assert sorted(map(key, parallel)) == sorted(map(key, serial))
    overlapping = [(a, b) for a in parallel for b in parallel if a.start < b.start < a.end]
    assert overlapping, "two evaluations ran at once"
    staged = run(tmp_path, toy, "hyperband", 4, DaskExecutor(client, toy, 2))
    assert sorted(r.trial_id for r in staged) == list(range(len(staged)))
    assert sum(r.epochs for r in staged) <= 4 * 27


def test_a_dying_worker_is_retried_once_then_the_trial_crashes(client, tmp_path) -> None:
    log = tmp_path / "attempts.log"
    task = MisbehavingToy(first_proposal(ToyTask(), 3), log, "die")
    records = run(tmp_path, task, "random", 3, DaskExecutor(client, task, 2))
    assert len(log.read_text().split()) == 2  # the first attempt and one retry
    assert len(records) == 3 and sum(r.epochs for r in records) == 3 * 27
    (crashed,) = [r for r in records if r.status == "crashed"]
    assert crashed.trial_id == 0 and crashed.error.startswith("worker lost twice, last: Killed")


def test_a_trial_past_its_timeout_is_cancelled_and_recorded_crashed(client, tmp_path) -> None:
    task = MisbehavingToy(first_proposal(ToyTask(), 3), tmp_path / "attempts.log", "hang")
    client.wait_for_workers(2)  # those of an earlier test may still be starting again
    began = time.perf_counter()
    records = run(tmp_path, task, "random", 3, DaskExecutor(client, task, 2, trial_timeout=1.0))
    assert time.perf_counter() - began < 30
    (crashed,) = [r for r in records if r.status == "crashed"]
    assert crashed.trial_id == 0 and crashed.error == "timed out after 1 s"
    assert crashed.seconds >= 1.0 and crashed.curve == [] and crashed.epochs == 27
    assert len(records) == 3 and all(r.status == "ok" for r in records if r is not crashed)
    client.wait_for_workers(2, timeout=60)  # the hung worker was replaced


def test_the_cli_runs_on_a_running_cluster(client, tmp_path) -> None:
    out = tmp_path / "run"
    args = ["--task", "toy", "--strategies", "random", "--budget", "4", "--seeds", "1"]
    assert main([*args, "--scheduler", client.scheduler.address, "--out", str(out)]) == 0
    with Store(out / "trials.sqlite") as store:
        assert len(store.records()) == 4 and store.is_finished("random", 0)
    assert client.status == "running"  # the run closed its own client only


def test_dask_workers_share_the_checkpoints_of_a_study(client, toy, tmp_path) -> None:
    """hyperband on two workers: promotions continue from checkpoints another worker wrote,
    and every curve is the one training from scratch gives."""
    folder = tmp_path / "checkpoints"
    with Store(tmp_path / "trials.sqlite") as store:
        run_study(
            toy, "hyperband", 0, 3 * toy.max_epochs, store,
            executor=DaskExecutor(client, toy, 2), checkpoints=folder,
        )  # fmt: skip
        records = store.records()
        stats = store.diagnostics()[("hyperband", 0)]["continuation"]
    continued = [r for r in records if r.continued_from]
    assert continued and stats["written"] > 0 and not folder.exists()
    assert sum(r.charged_epochs for r in records) <= 3 * toy.max_epochs
    for record in continued:
        config = Configuration(toy.space, values=record.config)
        assert toy.evaluate(config, record.epochs, config_seed(config, 0)).curve == tuple(
            record.curve
        )


def test_a_worker_that_cannot_reach_a_checkpoint_fails_its_trial(client, toy, tmp_path) -> None:
    config = toy.space.get_default_configuration()
    prefix = toy.evaluate(config, 1, config_seed(config, 0))
    executor = DaskExecutor(client, toy, 1)
    plan = Plan(start=prefix, load=str(tmp_path / "elsewhere" / "gone.ckpt"))
    executor.submit(TrialSpec(0, config, 3), 0, plan)
    (outcome,) = executor.wait()
    assert outcome.result is None and "not found on this worker" in outcome.error
    assert "share" in outcome.error
