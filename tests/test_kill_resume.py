"""``kill -9`` at random moments, then ``--resume``, again and again: a serial run ends with the
same trials and leaderboard as an uninterrupted one (continuation on: the same trials continue
from the same epochs); a ``--workers 2`` run's every resume succeeds, no committed trial is lost
or duplicated, and no process outlives its run. After every kill each checkpoint file in the
folder reads whole (a kill mid-write leaves only a ``.partial`` file, which the resume
deletes). The same for a small live recsys run on MovieLens-100K (when it is there offline).

Slow (minutes): ``pytest -m slow tests/test_kill_resume.py``. The kill times are drawn from a
seeded generator; the assertions hold whatever the moment, so nothing here races the clock.
"""

from __future__ import annotations

import csv
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mfnas.store import Store

RUN = ["--task", "toy", "--strategies", "random,evolution,smac-hb,hyperband", "--budget", "12",
       "--seeds", "2", "--quiet"]  # fmt: skip
KILLS = 20


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mfnas.bench", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"}, start_new_session=True,
    )  # fmt: skip


def _group_gone(group: int, seconds: float = 30.0) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _trials(out: Path) -> list[tuple]:
    with Store(out / "trials.sqlite", readonly=True) as store:
        return sorted(
            (
                r.strategy,
                r.seed,
                r.trial_id,
                str(r.config),
                r.epochs,
                r.continued_from,
                tuple(r.curve),
            )
            for r in store.records()
        )


def _checkpoints_whole(out: Path) -> int:
    """Assert that every checkpoint file in ``out`` reads whole; return how many there are."""
    files = list((out / "checkpoints").glob("*/*.ckpt"))
    for path in files:
        assert pickle.loads(path.read_bytes())["format"] == 1, path
    return len(files)


def _leaderboard(out: Path) -> list[dict[str, str]]:
    rows = csv.DictReader((out / "leaderboard.csv").read_text().splitlines())
    return [{k: v for k, v in row.items() if k != "wall_seconds_mean"} for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_and_resume_cycles(workers: int, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    done = _start([*RUN, "--out", str(reference)])
    assert done.wait(timeout=600) == 0, done.communicate()[1]
    rng, kills, folders = random.Random(workers), 0, 0
    extra = ["--workers", str(workers)] if workers > 1 else []
    while kills < KILLS:
        out, folders = tmp_path / f"run{folders}", folders + 1
        args = [*RUN, *extra, "--out", str(out)]
        while True:
            run = _start(args)
            try:
                code = run.wait(timeout=rng.uniform(1.0, 12.0))
            except subprocess.TimeoutExpired:
                run.send_signal(signal.SIGKILL)
                run.wait()
                kills += 1
                assert _group_gone(run.pid), "a process of the killed run is still there"
                _checkpoints_whole(out)
                if (out / "run.json").exists():  # else it was killed before it began: again
                    args = ["--resume", *extra, "--out", str(out), "--quiet"]
                continue
            assert code == 0, run.communicate()[1]  # every resume succeeds
            break
        trials = _trials(out)
        ids = [t[:3] for t in trials]
        assert len(ids) == len(set(ids))  # nothing duplicated
        assert sum(t[4] - t[5] for t in trials) <= 4 * 2 * 12 * 27
        assert any(t[5] for t in trials), "promotions continued"
        assert not (out / "checkpoints").exists()
        if workers == 1:  # serial: exactly the uninterrupted run
            assert trials == _trials(reference)
            assert _leaderboard(out) == _leaderboard(reference)
        else:  # in parallel the trials depend on timing; the budget is spent, nothing lost
            with Store(out / "trials.sqlite", readonly=True) as store:
                assert all(store.is_finished(s, k) for s in RUN[3].split(",") for k in (0, 1))


RECSYS = ["--task", "recsys", "--strategies", "hyperband", "--budget", "3", "--seeds", "1",
          "--max-epochs", "3", "--threads", "1", "--quiet"]  # fmt: skip


@pytest.mark.slow
def test_kill_9_and_resume_a_live_recsys_run(tmp_path: Path) -> None:
    from mfnas.data.movielens import DataError, load_ml100k

    try:
        load_ml100k(download=False)
    except DataError as exc:
        pytest.skip(f"MovieLens-100K is not available offline: {exc}")
    reference = tmp_path / "reference"
    done = _start([*RECSYS, "--out", str(reference)])
    assert done.wait(timeout=900) == 0, done.communicate()[1]
    rng, out, kills, seen = random.Random(0), tmp_path / "killed", 0, 0
    args = [*RECSYS, "--out", str(out)]
    while True:
        run = _start(args)
        try:
            code = run.wait(timeout=rng.uniform(5.0, 20.0) if kills < 4 else 900)
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGKILL)
            run.wait()
            kills += 1
            assert _group_gone(run.pid)
            seen += _checkpoints_whole(out)
            if (out / "run.json").exists():
                args = ["--resume", "--threads", "1", "--out", str(out), "--quiet"]
            continue
        assert code == 0, run.communicate()[1]
        break
    assert _trials(out) == _trials(reference)
    assert _leaderboard(out) == _leaderboard(reference)
    assert any(t[5] for t in _trials(out)), "promotions continued"
