"""The SQLite store: append-only records with plain types, metadata written once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from mfnas.direction import Direction
from mfnas.store import Store, TrialRecord, incumbent


def record(trial_id: int, epochs: int, value: float, status: str = "ok") -> TrialRecord:
    return TrialRecord(
        strategy="random", seed=0, trial_id=trial_id, config={"x": 0.5, "arch": "linear"},
        epochs=epochs, curve=[value] * epochs if status == "ok" else [], val={"score": value},
        test={"score": value - 0.01}, status=status, error=None if status == "ok" else "boom",
        seconds=0.1, start=float(trial_id), end=trial_id + 0.1,
    )  # fmt: skip


def test_records_round_trip_in_order(tmp_path) -> None:
    with Store(tmp_path / "trials.sqlite") as store:
        written = [record(0, 3, 0.2), record(1, 9, 0.5), record(2, 9, 0.0, "crashed")]
        for r in written:
            store.add(r)
    with Store(tmp_path / "trials.sqlite") as store:  # reopened: everything was committed
        assert store.records() == written
        assert store.records(seed=1) == []


def test_duplicate_trial_is_refused_and_nothing_is_overwritten(tmp_path) -> None:
    with Store(tmp_path / "trials.sqlite") as store:
        store.add(record(0, 3, 0.2))
        with pytest.raises(sqlite3.IntegrityError):
            store.add(record(0, 3, 0.9))
        assert store.records()[0].curve[-1] == 0.2


def test_meta_is_written_once(tmp_path) -> None:
    with Store(tmp_path / "trials.sqlite") as store:
        store.set_meta(task="toy", max_epochs=27)
        store.set_meta(task="other")
        assert store.meta() == {"task": "toy", "max_epochs": 27}


def test_store_uses_wal_journal(tmp_path) -> None:
    with Store(tmp_path / "trials.sqlite") as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_incumbent_is_best_full_fidelity_ok_record() -> None:
    records = [
        record(0, 3, 0.9),
        record(1, 9, 0.5),
        record(2, 9, 0.6),
        record(3, 9, 0.0, "crashed"),
    ]
    assert incumbent(records, max_epochs=9, direction=Direction.MAXIMIZE).trial_id == 2
    assert incumbent(records, max_epochs=9, direction=Direction.MINIMIZE).trial_id == 1
    assert incumbent(records[:1], max_epochs=9, direction=Direction.MAXIMIZE) is None


def write_many(path: str, strategy: str, n: int, start: Any) -> None:
    """Append ``n`` records of ``strategy`` to the store at ``path``, each its own commit,
    once every writer is ready (``start``, a barrier)."""
    with Store(path) as store:
        start.wait()
        for trial_id in range(n):
            store.add(replace(record(trial_id, 3, 0.5), strategy=strategy))


def test_two_processes_writing_one_store_lose_and_corrupt_nothing(tmp_path) -> None:
    path = str(tmp_path / "trials.sqlite")
    Store(path).close()  # created (WAL) before the writers race
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [context.Process(target=write_many, args=(path, s, 300, start)) for s in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    with Store(path) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for strategy in ("a", "b"):
            records = store.records(strategy=strategy)
            assert [r.trial_id for r in records] == list(range(300))
            assert all(r == replace(record(r.trial_id, 3, 0.5), strategy=strategy) for r in records)
