"""Does ``--workers 2`` pay? Evaluations per second on live recsys (pytest-benchmark).

Run with ``pytest benchmarks/perf/test_parallel_speedup.py --benchmark-only
--benchmark-json=benchmarks/perf/parallel_speedup.json`` on a quiet machine (the default
``pytest`` run collects only ``tests/``); it needs MovieLens-100K (found as ``load_ml100k``
finds it: ``$MFNAS_DATA_DIR``, the cache, or a download).

A fixed list of ``N_EVALS`` evaluations of equal cost (one MF configuration, ``EPOCHS``
epochs, a different seed each: over a second each here), so load imbalance cannot hide
anything, goes through each executor the way the runner drives it (submit while a slot is
free, wait, submit the next):

- ``serial-1thread``: ``SerialExecutor`` in this process with one torch thread (the yardstick:
  one single-threaded process);
- ``serial-default``: the same with torch's default threads;
- ``dask-2``: ``DaskExecutor`` on a local cluster of 2 single-threaded worker processes.

Each round times the evaluations only; the cluster is started, and each worker has loaded
the data with one evaluation, before the round (``cluster_start_s`` says how long that took).
``extra_info["speedup"]`` is the yardstick's time over the executor's.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import torch
from throughput import drain, equal_cost_specs

from mfnas.execution.executors import Executor, SerialExecutor
from mfnas.strategies import TrialSpec
from mfnas.tasks import make_task
from mfnas.tasks.base import Task

N_EVALS = 12
EPOCHS = 6

seconds: dict[str, float] = {}  # mean round time per executor, for the speed-ups


def _task() -> Task:
    return make_task("recsys", max_epochs=EPOCHS, device="cpu")


def _specs(task: Task, first_id: int = 0) -> list[TrialSpec]:
    return equal_cost_specs(task, N_EVALS, EPOCHS, first_id)


@pytest.mark.parametrize("name", ["serial-1thread", "serial-default", "dask-2"])
def test_equal_cost_evaluations_per_second(benchmark, name: str) -> None:
    benchmark.group = f"{N_EVALS} recsys MF evaluations of {EPOCHS} epochs"
    task = _task()
    with ExitStack() as stack:
        threads = torch.get_num_threads()
        if name.startswith("serial"):
            if name == "serial-1thread":
                torch.set_num_threads(1)
                stack.callback(torch.set_num_threads, threads)
            executor: Executor = SerialExecutor(task)
            started = time.perf_counter()
            drain(executor, _specs(task)[:1])  # the data loaded, as the workers' are below
        else:
            from mfnas.execution.dask_executor import DaskExecutor, dask_client

            started = time.perf_counter()
            client, slots = stack.enter_context(dask_client(2, None))
            executor = DaskExecutor(client, task, slots)
            drain(executor, _specs(task)[:2])  # one evaluation per worker loads its data
        warm_s = time.perf_counter() - started
        rounds = iter(range(10**6))
        benchmark.pedantic(
            lambda: drain(executor, _specs(task, 1000 * next(rounds))), rounds=2, iterations=1
        )
    seconds[name] = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        executor=name,
        evaluations=N_EVALS,
        seconds_per_evaluation=seconds[name] / N_EVALS,
        cluster_start_s=warm_s,
    )
    if "serial-1thread" in seconds:
        benchmark.extra_info["speedup"] = seconds["serial-1thread"] / seconds[name]
