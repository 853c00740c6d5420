"""The SQLite store: append-only records with plain types, metadata written once."""

from __future__ import annotations

import sqlite3

import pytest

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
    assert incumbent(records, max_epochs=9, maximize=True).trial_id == 2
    assert incumbent(records, max_epochs=9, maximize=False).trial_id == 1
    assert incumbent(records[:1], max_epochs=9, maximize=True) is None
