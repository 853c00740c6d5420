"""Equal-cost evaluations pushed through an executor: what the parallel benchmark and the GPU
check measure (evaluations per second, load imbalance ruled out)."""

from __future__ import annotations

import time

import numpy as np

from mfnas.execution.executors import Executor
from mfnas.strategies import TrialSpec
from mfnas.strategies.configs import repair
from mfnas.tasks.base import Task

# the space's default model with its defaults: MF, BPR, embedding 64, batch 1,024
MF_BPR = {"model": "mf", "embedding_dim": 64, "batch_size": 1024, "loss": "bpr"}


def equal_cost_specs(
    task: Task, n: int, epochs: int, first_id: int = 0, values: dict | None = None
) -> list[TrialSpec]:
    """``n`` trials of one recsys configuration (``values`` over the space's defaults, MF-BPR
    unless given) for ``epochs`` epochs each, trial ids from ``first_id`` (each its own
    seed when ``drain`` runs them)."""
    default = dict(task.space.get_default_configuration())
    config = repair(task.space, {**default, **(values or MF_BPR)}, np.random.default_rng(0))
    return [TrialSpec(first_id + i, config, epochs) for i in range(n)]


def drain(executor: Executor, specs: list[TrialSpec]) -> float:
    """Run every spec through ``executor`` as the runner does (submit while a slot is free,
    wait, submit the next), each seeded with its trial id; the seconds it took. Raises
    AssertionError when an evaluation failed."""
    start, queue, running = time.perf_counter(), list(specs), 0
    while queue or running:
        while queue and running < executor.slots:
            spec = queue.pop(0)
            executor.submit(spec, seed=spec.trial_id)
            running += 1
        for outcome in executor.wait():
            assert outcome.result is not None, outcome.error
            running -= 1
    return time.perf_counter() - start
