"""GPU evaluations, measured in one call of a few minutes: ``python benchmarks/perf/gpu_check.py``.

On a machine with a CUDA device it runs, on that device:

1. a small live recsys run end to end (``python -m mfnas.bench --task recsys --strategies
   random,smac-hb --budget 3 --max-epochs 3 --seeds 1 --device cuda``), its wall time and best
   test NDCG@10;
2. the epoch time of each trained task's default configuration (recsys MF-BPR, NeuMF and
   LightGCN; rating; image; fashion and text where their data is found), one epoch timed
   after a warm-up epoch, from the task's own per-epoch timings;
3. evaluations per second of equal-cost recsys MF-BPR evaluations with 1, 4 and 8 Dask
   workers sharing the one GPU (``--workers N --device cuda``).

``--dry-run`` does the same on the CPU at toy sizes (1 and 2 workers, one epoch), which is
what the test suite runs so the script cannot rot between GPU sessions. The report goes to
stdout and, with ``--json FILE``, to a JSON file (commit the one a GPU run printed:
``benchmarks/perf/gpu_check.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # throughput.py beside this file

from throughput import drain, equal_cost_specs

from mfnas.data import DataError
from mfnas.tasks import make_task

RECSYS_MODELS = {
    "recsys mf-bpr": {"model": "mf", "loss": "bpr"},
    "recsys neumf": {"model": "neumf"},
    "recsys lightgcn": {"model": "lightgcn"},
}
OTHER_TASKS = ("recsys-rating", "image", "fashion", "text")


def _say(line: str) -> None:
    print(line, flush=True)


def live_run(device: str, dry: bool, folder: Path) -> dict[str, Any]:
    """Step 1: a small live run through the CLI, in a subprocess as a user runs it."""
    budget, epochs = ("1", "1") if dry else ("3", "3")
    strategies = "random" if dry else "random,smac-hb"
    command = [sys.executable, "-m", "mfnas.bench", "--task", "recsys", "--strategies",
               strategies, "--budget", budget, "--max-epochs", epochs, "--seeds", "1",
               "--device", device, "--out", str(folder / "live"), "--quiet"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the live run failed ({done.returncode}): {done.stderr.strip()}")
    with (folder / "live" / "leaderboard.csv").open() as rows:
        tests = {row["strategy"]: round(float(row["test_mean"]), 4) for row in csv.DictReader(rows)}
    return {"command": " ".join(command[1:]), "seconds": round(seconds, 2), "test_ndcg@10": tests}


def epoch_seconds(device: str, dry: bool) -> dict[str, float | str]:
    """Step 2: one epoch (after a warm-up one) of each task's default configuration."""
    epochs = 2
    out: dict[str, float | str] = {}
    jobs = [("recsys", name, values) for name, values in RECSYS_MODELS.items()]
    jobs += [(task, task, None) for task in OTHER_TASKS]
    if dry:
        jobs = jobs[:1]  # the CPU dry run checks the path, not every model
    for task_name, label, values in jobs:
        try:
            task = make_task(task_name, max_epochs=epochs, device=device)
            spec = equal_cost_specs(task, 1, epochs, values=values) if values else None
            config = spec[0].config if spec else task.space.get_default_configuration()
            result = task.evaluate(config, epochs, seed=0)
        except DataError as exc:
            out[label] = f"skipped: {str(exc).splitlines()[0]}"
            continue
        out[label] = round(result.epoch_seconds[-1], 4)
        _say(f"  {label}: {out[label]} s per epoch")
    return out


def workers_sharing(device: str, dry: bool) -> dict[str, float]:
    """Step 3: evaluations per second with N Dask workers sharing the device."""
    from mfnas.execution.dask_executor import DaskExecutor, dask_client

    counts, n, epochs = ((1, 2), 4, 1) if dry else ((1, 4, 8), 32, 3)
    task = make_task("recsys", max_epochs=epochs, device=device)
    out = {}
    for workers in counts:
        with dask_client(workers, None) as (client, slots):
            executor = DaskExecutor(client, task, slots)
            drain(executor, equal_cost_specs(task, workers, epochs))  # each worker loads data
            seconds = drain(executor, equal_cost_specs(task, n, epochs, first_id=1000))
        out[f"{workers} workers"] = round(n / seconds, 3)
        _say(f"  {workers} workers: {out[f'{workers} workers']} evaluations/s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/perf/gpu_check.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dry-run", action="store_true", help="CPU, toy sizes (what tests run)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    device = "cpu" if args.dry_run else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here; use --dry-run to check the script on the CPU")
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "dry_run": args.dry_run,
    }
    _say(f"device: {report['device']} (torch {report['torch']})")
    with tempfile.TemporaryDirectory(prefix="mfnas-gpu-check-") as folder:
        _say("1. live recsys run")
        report["live_run"] = live_run(device, args.dry_run, Path(folder))
        _say(f"  {report['live_run']}")
    _say("2. seconds per epoch")
    report["epoch_seconds"] = epoch_seconds(device, args.dry_run)
    _say("3. workers sharing the device")
    report["evaluations_per_second"] = workers_sharing(device, args.dry_run)
    if args.json:
        with suppress(OSError):
            args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
