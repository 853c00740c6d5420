"""The GPU check script (``benchmarks/perf/gpu_check.py``) in its CPU dry mode, so it works
the day a GPU machine is lent: every step runs and the report says what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "perf" / "gpu_check.py"


@pytest.mark.slow  # a live run, a recsys task and two Dask clusters: about a minute
def test_the_dry_run_measures_every_step(tmp_path) -> None:
    report = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--json", str(report)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for step in ("1. live recsys run", "2. seconds per epoch", "3. workers sharing the device"):
        assert step in done.stdout
    values = json.loads(report.read_text())
    assert values["dry_run"] is True
    assert values["live_run"]["test_ndcg@10"]["random"] > 0
    assert values["epoch_seconds"]["recsys mf-bpr"] > 0
    assert set(values["evaluations_per_second"]) == {"1 workers", "2 workers"}
    assert all(rate > 0 for rate in values["evaluations_per_second"].values())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_without_a_gpu_the_script_says_to_use_the_dry_run() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "no CUDA device here; use --dry-run" in done.stderr
