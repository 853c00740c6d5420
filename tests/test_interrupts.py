"""Interrupting a run on Dask workers: SIGINT to the run's process group (a terminal's Ctrl-C)
or SIGTERM to the run ends it within seconds, with one line on stderr and the command that
resumes it, leaves no process behind, and the resume completes the run.

The run's task blocks on its first evaluation (``mfnas.testing.toys.BlockingToy``), and the
signal is sent only once that evaluation has begun: the moment is known, never raced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mfnas.store import Store

BENCH = """
import sys
from pathlib import Path
import mfnas.tasks
from mfnas.testing.toys import BlockingToy
mfnas.tasks.TASKS["toy"] = lambda **options: BlockingToy(Path(sys.argv[1]))
from mfnas.cli.bench import main
sys.exit(main(sys.argv[2:]))
"""
RUN = ["--task", "toy", "--strategies", "random", "--budget", "3", "--seeds", "1", "--quiet"]


def _bench(marker: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        [sys.executable, "-c", BENCH, str(marker), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )  # fmt: skip


def _until(condition, seconds: float = 60.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False)."""
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.02)
    return True


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow  # about 20 s each: two runs, one with a Dask cluster
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=str)
def test_an_interrupted_run_on_workers_ends_in_one_line_and_resumes(how, tmp_path) -> None:
    marker, out = tmp_path / "began", tmp_path / "run"
    run = _bench(marker, *RUN, "--workers", "2", "--out", str(out))
    assert _until(marker.exists), run.communicate()[1]  # the blocking evaluation has begun
    if how == signal.SIGINT:
        os.killpg(run.pid, how)  # Ctrl-C reaches every process of the group
    else:
        run.send_signal(how)
    started = time.monotonic()
    err = run.communicate(timeout=60)[1]
    assert time.monotonic() - started < 20
    assert run.returncode == 130, err
    resume = f"python -m mfnas.bench --resume --out {out}"
    assert err.strip().splitlines() == [f"interrupted; continue with: {resume}"]
    assert _until(lambda: _group_gone(run.pid), 20), "a process of the run outlived it"
    again = _bench(marker, "--resume", "--out", str(out), "--quiet")  # here, no cluster
    assert again.wait(timeout=120) == 0, again.communicate()[1]
    with Store(out / "trials.sqlite", readonly=True) as store:
        records = store.records()
    ids = [r.trial_id for r in records]
    assert len(ids) == len(set(ids)) == 3 and sum(r.epochs for r in records) == 3 * 27
    assert all(r.status.value == "ok" for r in records)


@pytest.mark.slow  # a Dask cluster of two workers: about 15 s
def test_a_finished_run_on_workers_leaves_no_process_behind(tmp_path) -> None:
    """Every process of a ``--workers 2`` run (its own process group) is gone once it ends:
    the workers, their nannies and whatever they started."""
    out = tmp_path / "run"
    run = subprocess.Popen(
        [sys.executable, "-m", "mfnas.bench", *RUN[:-1], "--workers", "2", "--out", str(out),
         "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"}, start_new_session=True,
    )  # fmt: skip
    err = run.communicate(timeout=180)[1]
    assert run.returncode == 0, err
    assert _until(lambda: _group_gone(run.pid), 5), "a process of the run outlived it"
    assert "still alive" not in err  # no worker had to be killed at the end
