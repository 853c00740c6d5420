"""What continuation costs: writing and reading one checkpoint, against one training epoch.

Run with ``pytest benchmarks/perf/test_checkpoint_overhead.py --benchmark-only
--benchmark-json=benchmarks/perf/checkpoint_overhead.json`` (the default ``pytest`` run
collects only ``tests/``). It needs MovieLens-100K as ``load_ml100k`` finds it. CPU, one torch
thread (the setting of the recorded tables and of every Dask worker).

For the recsys space's default configuration of each family below (its model changed, nothing
else), one epoch is trained and kept (``RecsysTask.evaluate(..., keep=True)``); then

- ``test_epoch``: one more epoch continued from it, nothing kept (train + validate);
- ``test_save_and_load``: ``save_checkpoint`` of its state (pickled, fsynced, renamed into
  place) then ``load_checkpoint`` (read, identity checked), the two I/O steps a promotion adds.

``extra_info["checkpoint_bytes"]`` is the file's size. The README's continuation section quotes
the ratio of the two medians per family: the share of an epoch that a continued promotion
spends on its checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from ConfigSpace import Configuration

from mfnas.data.movielens import DataError
from mfnas.execution.checkpoints import load_checkpoint, save_checkpoint
from mfnas.strategies.configs import repair
from mfnas.tasks.base import Checkpoint, Result
from mfnas.tasks.recsys import RecsysTask

FAMILIES = {
    "mf": {"model": "mf"},
    "neumf": {"model": "neumf"},
    "lightgcn": {"model": "lightgcn"},
}
IDENTITY = {"task": "recsys", "epochs": 1}


@pytest.fixture(scope="module")
def task() -> Iterator[RecsysTask]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    task = RecsysTask(device="cpu")
    try:
        task.split  # noqa: B018 - loads the data once, outside the timings
    except DataError as exc:
        pytest.skip(str(exc))
    yield task
    torch.set_num_threads(threads)


def _config(task: RecsysTask, family: str) -> Configuration:
    """Every hyperparameter at its default, the model changed, the inactive ones dropped."""
    defaults = {name: hp.default_value for name, hp in task.space.items()}
    return repair(task.space, {**defaults, **FAMILIES[family]}, np.random.default_rng(0))


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def kept(request: pytest.FixtureRequest, task: RecsysTask) -> tuple[str, Configuration, Result]:
    config = _config(task, request.param)
    return request.param, config, task.evaluate(config, 1, 0, keep=True)


def test_epoch(benchmark, task: RecsysTask, kept: tuple[str, Configuration, Result]) -> None:
    family, config, result = kept
    benchmark.group = f"checkpoint overhead: {family}"
    start = Checkpoint(result, result.state)
    benchmark.pedantic(task.evaluate, args=(config, 2, 0, start), rounds=5, iterations=1)


def test_save_and_load(benchmark, tmp_path: Path, kept: tuple[str, Configuration, Result]) -> None:
    family, _, result = kept
    benchmark.group = f"checkpoint overhead: {family}"
    path = str(tmp_path / "state.ckpt")

    def round_trip() -> int:
        size = save_checkpoint(path, result.state, IDENTITY)
        load_checkpoint(path, IDENTITY)
        return size

    size = benchmark.pedantic(round_trip, rounds=10, iterations=1)
    benchmark.extra_info["checkpoint_bytes"] = size
