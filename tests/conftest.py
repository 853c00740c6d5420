"""Shared fixtures: the toy task and a problem built on it; torch on one thread.

Tests train tiny models, where torch's thread pool costs more than it gives; on a busy machine
its spinning threads made one training step take 70 times as long. One thread also keeps
timings and results the same whatever the machine.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfnas.execution.runner import problem_for
from mfnas.spaces import plain_config
from mfnas.strategies import STRATEGIES, Problem
from mfnas.strategies.base import PriorCurve
from mfnas.strategies.configs import sample_config
from mfnas.tasks.toy import ToyTask

torch.set_num_threads(1)


@pytest.fixture
def toy() -> ToyTask:
    return ToyTask()


@pytest.fixture
def toy_problem(toy: ToyTask) -> Problem:
    return problem_for(toy, budget_epochs=5 * toy.max_epochs)


def record_prior(task: ToyTask, n: int = 24, seed: int = 0) -> tuple[PriorCurve, ...]:
    """Full-fidelity validation curves of ``n`` sampled toy configurations: a prior."""
    rng = np.random.default_rng(seed)
    configs = [sample_config(task.space, rng) for _ in range(n)]
    return tuple(
        PriorCurve(plain_config(c), task.evaluate(c, task.max_epochs, seed).curve) for c in configs
    )


@pytest.fixture(scope="session")
def toy_prior() -> tuple[PriorCurve, ...]:
    return record_prior(ToyTask())


def prior_for(name: str, prior: tuple[PriorCurve, ...]) -> tuple[PriorCurve, ...]:
    """``prior`` for a strategy that uses one, else nothing (as the bench gives them)."""
    return prior if STRATEGIES[name].uses_prior else ()
