"""Shared fixtures: the toy task and a problem built on it."""

from __future__ import annotations

import pytest

from mfnas.runner import problem_for
from mfnas.strategies import Problem
from mfnas.tasks.toy import ToyTask


@pytest.fixture
def toy() -> ToyTask:
    return ToyTask()


@pytest.fixture
def toy_problem(toy: ToyTask) -> Problem:
    return problem_for(toy, budget_epochs=5 * toy.max_epochs)
