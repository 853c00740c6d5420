"""The served recsys model under a bounded load, on loopback only.

Run with ``pytest benchmarks/perf/test_serve_load.py --benchmark-only
--benchmark-json=benchmarks/perf/serve_load.json`` (the default ``pytest`` run collects only
``tests/``). It needs MovieLens-100K as ``load_ml100k`` finds it. The module makes a small live
recsys run (``grid``'s first configuration, an MLP tower, 2 epochs), exports its model, then:

Both use one torch thread (``--threads 1``: on a 2-core machine it is faster than two).

- ``test_model_load``: ``create_app`` on the model folder (read the bundle, rebuild the model,
  score every user's items once, answer a first request): what a server start costs after its
  imports;
- ``test_recommend_load``: one ``python -m mfnas.serve`` process (one uvicorn worker), one
  keep-alive client sending ``REQUESTS`` ``POST /recommend`` (k = 10, seen items excluded)
  one after another, users in turn, after ``WARMUP`` untimed ones. ``extra_info`` holds the
  requests per second and the p50 / p99 latency in milliseconds (client side: send to the
  whole answer read).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mfnas.data.movielens import DataError
from mfnas.deploy.server import create_app
from mfnas.testing.server import Client, live_run, running_server

REQUESTS, WARMUP = 2_000, 100


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mfnas.cli.export import main as export

    try:
        run = live_run(tmp_path_factory.mktemp("run") / "recsys", "recsys")
    except DataError as exc:
        pytest.skip(str(exc))
    out = tmp_path_factory.mktemp("model") / "recsys"
    assert export([str(run), "--out", str(out)]) == 0
    return out


def test_model_load(benchmark, model: Path) -> None:
    benchmark.group = "serving"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        benchmark.pedantic(create_app, args=(model, "cpu"), rounds=3, iterations=1)
    finally:
        torch.set_num_threads(threads)


def test_recommend_load(benchmark, model: Path) -> None:
    benchmark.group = "serving"
    with running_server(model, "--threads", "1") as (host, port):
        client = Client(host, port)
        users = list(range(1, 944))  # the raw MovieLens user ids
        for i in range(WARMUP):
            client.post("/recommend", {"user": users[i % len(users)], "k": 10})
        latencies: list[float] = []

        def load() -> None:
            for i in range(REQUESTS):
                started = time.perf_counter()
                status, _ = client.post("/recommend", {"user": users[i % len(users)], "k": 10})
                latencies.append(time.perf_counter() - started)
                assert status == 200

        benchmark.pedantic(load, rounds=1, iterations=1)
        client.close()
    total = sum(latencies)
    benchmark.extra_info["requests"] = REQUESTS
    benchmark.extra_info["requests_per_second"] = REQUESTS / total
    benchmark.extra_info["p50_ms"] = 1000 * float(np.percentile(latencies, 50))
    benchmark.extra_info["p99_ms"] = 1000 * float(np.percentile(latencies, 99))
