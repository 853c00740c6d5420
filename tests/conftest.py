"""Shared fixtures: the toy task and a problem built on it; a local Dask cluster for the
session; torch on one thread; the session fixtures of the contract suites
(``mfnas.testing.fixtures``: ``toy_prior``, ``toy_table``, ``toy_surrogate``).

Tests train tiny models, where torch's thread pool costs more than it gives; on a busy machine
its spinning threads made one training step take 70 times as long. One thread also keeps
timings and results the same whatever the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from mfnas.execution.runner import problem_for
from mfnas.strategies import Problem
from mfnas.tasks.toy import ToyTask
from mfnas.testing.fixtures import prior_for, record_prior

pytest_plugins = ["mfnas.testing.fixtures"]

torch.set_num_threads(1)

if TYPE_CHECKING:  # Dask is imported by the tests that use it only
    from distributed import Client

__all__ = ["prior_for", "record_prior"]  # imported by test modules (``from conftest import``)


@pytest.fixture(scope="session", autouse=True)
def fresh_reference_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test session computes reference rows afresh (the cache of an earlier run would answer
    for other code otherwise): the reference cache is a new folder per session, so each data
    split's rows are computed once by the code under test and then shared by its tests. A test
    of the caching itself takes ``empty_reference_cache`` instead."""
    import mfnas.tasks.base as base

    before = base.reference_cache_dir
    base.reference_cache_dir = tmp_path_factory.mktemp("references")
    yield
    base.reference_cache_dir = before


@pytest.fixture
def empty_reference_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """For a test of the caching itself: the reference cache is this test's own empty
    ``tmp_path`` (returned)."""
    import mfnas.tasks.base as base

    monkeypatch.setattr(base, "reference_cache_dir", tmp_path)
    return tmp_path


@pytest.fixture
def toy() -> ToyTask:
    return ToyTask()


@pytest.fixture
def toy_problem(toy: ToyTask) -> Problem:
    return problem_for(toy, budget_epochs=5 * toy.max_epochs)


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Client]:
    """A client of a local cluster of 2 single-threaded worker processes, started on first use
    (it takes seconds) and shared by the rest of the session."""
    from mfnas.execution.dask_executor import dask_client as local_cluster

    with local_cluster(2, None) as (client, slots):
        assert slots == 2
        yield client
