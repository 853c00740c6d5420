"""The Executor suite (``mfnas.testing.executor``) over the serial, simulated and Dask
executors; the Dask one on the session's local cluster of 2 workers (``dask_client``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from distributed import Client

from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.dask_executor import DaskExecutor
from mfnas.execution.executors import Executor, SerialExecutor
from mfnas.replay.base import ReplayTask
from mfnas.testing.executor import ExecutorSuite


class TestSerialExecutor(ExecutorSuite):
    @pytest.fixture
    def make_executor(self) -> Callable[[ReplayTask], Executor]:
        return SerialExecutor


class TestSimulatedExecutor(ExecutorSuite):
    slots = 3

    @pytest.fixture
    def make_executor(self) -> Callable[[ReplayTask], Executor]:
        return lambda task: SimulatedExecutor(task, slots=self.slots, timer=lambda: 0.0)


class TestDaskExecutor(ExecutorSuite):
    slots = 2
    concurrent = True

    @pytest.fixture
    def make_executor(self, dask_client: Client) -> Callable[[ReplayTask], Executor]:
        return lambda task: DaskExecutor(dask_client, task, self.slots)
