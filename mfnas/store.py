"""Append-only SQLite store of trial records (``trials.sqlite`` in the output folder).

One store holds one run: its metadata (task, metric, direction, fidelity, budget) in table
``meta``, one row per finished evaluation in table ``trials``, and one row per finished
(strategy, seed) study in table ``studies``. Each record is committed as its evaluation
finishes (WAL journal, so several processes may write one store); rows are never updated or
deleted. Only the runner's process writes: Dask workers return their results to it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mfnas.direction import Direction


class Status(str, Enum):
    """How an evaluation ended: ``ok`` (a finite result) or ``crashed`` (it raised, diverged,
    timed out or lost its worker; its error text and cost are kept)."""

    OK = "ok"
    CRASHED = "crashed"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    strategy TEXT NOT NULL,
    seed INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    config TEXT NOT NULL,
    epochs INTEGER NOT NULL,
    curve TEXT NOT NULL,
    val TEXT NOT NULL,
    test TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'crashed')),
    error TEXT,
    seconds REAL NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    extra TEXT NOT NULL,
    asked_after INTEGER,
    continued_from INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (strategy, seed, trial_id)
);
CREATE TABLE IF NOT EXISTS studies (
    strategy TEXT NOT NULL,
    seed INTEGER NOT NULL,
    diagnostics TEXT,
    PRIMARY KEY (strategy, seed)
);
"""


@dataclass(frozen=True)
class TrialRecord:
    """One finished evaluation, as stored. Plain Python types only.

    ``start``/``end`` are seconds on the study clock (since the (strategy, seed) study began,
    going on across resumes): when the runner submitted the evaluation and saw it end.
    ``test`` is the test metrics after the last epoch (read only for the final incumbent).
    ``asked_after`` is how many results the strategy had been told when it proposed this trial
    (what a resumed run replays; None in stores written before it was recorded).
    ``continued_from`` is the epoch the training continued from (0: from scratch, as every
    trial of a store written before continuation was); ``curve`` is the whole curve all the
    same, and the budget paid ``charged_epochs``.
    """

    strategy: str
    seed: int
    trial_id: int
    config: dict[str, Any]
    epochs: int
    curve: list[float]
    val: dict[str, float]
    test: dict[str, float] | None
    status: Status
    error: str | None
    seconds: float
    start: float
    end: float
    extra: dict[str, Any] = field(default_factory=dict)
    asked_after: int | None = None
    continued_from: int = 0

    def __post_init__(self) -> None:  # a status given as its text; ValueError for another
        object.__setattr__(self, "status", Status(self.status))

    @property
    def charged_epochs(self) -> int:
        """The epochs this evaluation trained: what the budget paid for it."""
        return self.epochs - self.continued_from

    @property
    def objective(self) -> float | None:
        """The validation objective after the last epoch, or None when the trial crashed."""
        return self.curve[-1] if self.status is Status.OK and self.curve else None


_JSON_FIELDS = ("config", "curve", "val", "test", "extra")


class StoreError(ValueError):
    """A file that is not an intact mfnas store (empty, truncated, another database, garbage in
    its journal); the one-line message names the file. Such a file is never written to."""


_TABLES = {"meta", "trials"}  # "studies" came later: an old store gains it when resumed


class Store:
    """A run's trial store backed by one SQLite file.

    A new file is created with the schema. An existing file is checked first (an SQLite
    database whose integrity check passes and which holds mfnas's tables), and StoreError
    raised when it is not an intact mfnas store; nothing is written to it then. With
    ``readonly``, the file must exist and is never written (``python -m mfnas.report``).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        existing = self.path.exists()
        if readonly and not existing:
            raise StoreError(f"{self.path}: no such store")
        self._db = self._check(readonly) if existing else sqlite3.connect(self.path, timeout=30.0)
        if readonly:
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(studies)")}
        if "diagnostics" not in columns:  # a store written before studies kept diagnostics
            self._db.execute("ALTER TABLE studies ADD COLUMN diagnostics TEXT")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(trials)")}
        if "continued_from" not in columns:  # a store written before continuation
            self._db.execute(
                "ALTER TABLE trials ADD COLUMN continued_from INTEGER NOT NULL DEFAULT 0"
            )
        self._db.commit()

    def _check(self, readonly: bool) -> sqlite3.Connection:
        """A connection to the existing file after checking it is an intact mfnas store."""
        uri = f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
        if readonly and not Path(f"{self.path}-wal").exists():
            uri += "&immutable=1"  # nothing uncommitted to read: no -shm/-wal files are made
        try:
            db = sqlite3.connect(uri, uri=True, timeout=30.0)
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            intact = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: not an intact mfnas store ({exc})") from None
        if not intact or not tables >= _TABLES:
            db.close()
            problem = "its integrity check fails" if not intact else "it holds no mfnas tables"
            raise StoreError(f"{self.path}: not an intact mfnas store ({problem})")
        return db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_meta(self, **values: Any) -> None:
        """Record run metadata (JSON values); a key already recorded is never changed."""
        with self._db:
            for key, value in values.items():
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                    (key, json.dumps(value)),
                )

    def meta(self) -> dict[str, Any]:
        """All run metadata."""
        rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def add(self, record: TrialRecord) -> None:
        """Append one record and commit it; a duplicate (strategy, seed, trial_id) raises."""
        row = asdict(record)
        row["status"] = record.status.value
        for key in _JSON_FIELDS:
            row[key] = None if row[key] is None else json.dumps(row[key])
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._db:
            self._db.execute(
                f"INSERT INTO trials ({columns}) VALUES ({marks})", tuple(row.values())
            )

    def finish_study(
        self, strategy: str, seed: int, diagnostics: dict[str, Any] | None = None
    ) -> None:
        """Mark the (strategy, seed) study finished (a resumed run skips it), with what its
        strategy reported about itself (``Strategy.diagnostics``, JSON)."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO studies (strategy, seed, diagnostics) VALUES (?, ?, ?)",
                (strategy, seed, json.dumps(diagnostics or {})),
            )

    def diagnostics(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Each finished study's diagnostics by (strategy, seed) (empty when none were kept)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(studies)")}
        if "diagnostics" not in columns:  # a store read-only from before diagnostics were kept
            return {}
        rows = self._db.execute("SELECT strategy, seed, diagnostics FROM studies").fetchall()
        return {(name, seed): json.loads(info or "{}") for name, seed, info in rows}

    def is_finished(self, strategy: str, seed: int) -> bool:
        """True when the (strategy, seed) study was marked finished."""
        query = "SELECT 1 FROM studies WHERE strategy = ? AND seed = ?"
        return self._db.execute(query, (strategy, seed)).fetchone() is not None

    def records(self, strategy: str | None = None, seed: int | None = None) -> list[TrialRecord]:
        """Records in insertion order, optionally only those of one strategy and/or seed."""
        return list(self._iter(strategy, seed))

    def _iter(self, strategy: str | None, seed: int | None) -> Iterator[TrialRecord]:
        query, args = "SELECT * FROM trials WHERE 1=1", []
        if strategy is not None:
            query, args = query + " AND strategy = ?", [*args, strategy]
        if seed is not None:
            query, args = query + " AND seed = ?", [*args, seed]
        cursor = self._db.execute(query + " ORDER BY rowid", args)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            for key in _JSON_FIELDS:
                row[key] = None if row[key] is None else json.loads(row[key])
            yield TrialRecord(**row)


def incumbent(
    records: list[TrialRecord], max_epochs: int, direction: Direction
) -> TrialRecord | None:
    """The best ``ok`` full-fidelity record by validation objective (first one wins ties)."""
    full = [r for r in records if r.status is Status.OK and r.epochs >= max_epochs]
    return direction.best(full, key=lambda r: r.curve[-1]) if full else None
