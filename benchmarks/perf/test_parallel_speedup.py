"""Wall-clock speed-up of ``--workers 2`` over ``--workers 1`` on live recsys (pytest-benchmark).

Run with ``pytest benchmarks/perf/test_parallel_speedup.py --benchmark-only`` (the default
``pytest`` run collects only ``tests/``); it needs MovieLens-100K (found as ``load_ml100k``
finds it: ``--data-dir``'s folder, ``$MFNAS_DATA_DIR``, the cache, or a download).

Each round is one random-search study as the CLI runs it, end to end: ``BUDGET`` full
trainings of ``MAX_EPOCHS`` epochs on CPU, data loading included; with 2 workers also the
start of the local Dask cluster (each worker loads the data itself). One worker evaluates in
this process with torch's default threads, as ``--workers 1`` does; two workers use one torch
thread each. ``extra_info["speedup"]`` (on the 2-worker benchmark) is the serial round time
over the parallel one.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from mfnas.execution.executors import SerialExecutor
from mfnas.execution.runner import run_study
from mfnas.store import Store
from mfnas.tasks import make_task

BUDGET = 6
MAX_EPOCHS = 9
SEED = 0

seconds: dict[int, float] = {}  # mean round time per worker count, for the speed-up


def study(workers: int, folder: Path) -> list[tuple]:
    """One random-search study on ``workers`` workers; its (config, epochs) in trial order."""
    task = make_task("recsys", max_epochs=MAX_EPOCHS, device="cpu")
    with ExitStack() as stack:
        if workers == 1:
            executor = SerialExecutor(task)
        else:
            from mfnas.execution.dask_executor import DaskExecutor, dask_client

            client, slots = stack.enter_context(dask_client(workers, None))
            executor = DaskExecutor(client, task, slots)
        folder.mkdir(parents=True, exist_ok=True)
        store = stack.enter_context(Store(folder / f"trials-{len(list(folder.iterdir()))}.sqlite"))
        run_study(task, "random", SEED, BUDGET * MAX_EPOCHS, store, executor=executor)
        records = sorted(store.records(), key=lambda r: r.trial_id)
    assert all(r.status == "ok" for r in records)
    return [(r.config, r.epochs) for r in records]


@pytest.mark.parametrize("workers", [1, 2])
def test_random_search_wall_time(benchmark, workers: int, tmp_path: Path) -> None:
    benchmark.group = f"random search on recsys, {BUDGET} x {MAX_EPOCHS} epochs"
    trials = benchmark.pedantic(study, args=(workers, tmp_path), rounds=1, iterations=1)
    assert len(trials) == BUDGET and sum(epochs for _, epochs in trials) == BUDGET * MAX_EPOCHS
    seconds[workers] = benchmark.stats.stats.mean
    benchmark.extra_info["workers"] = workers
    if workers > 1 and 1 in seconds:
        benchmark.extra_info["speedup"] = seconds[1] / seconds[workers]
