"""The recorded benchmark: one row per configuration trained to full fidelity, as CSV + gzip.

A ``Recording`` is what ``python -m mfnas.collect`` measured for one configuration: the
validation objective after every epoch, the seconds of every epoch, and the validation and test
metrics after the last epoch, or the error when training crashed. ``write_table`` and
``read_table`` round-trip a list of them through ``curves.csv.gz``: columns ``id``, ``config``
(JSON of the active values), ``train_seed``, ``status`` (``ok|crashed``), ``error``,
``seconds``, ``curve_1..curve_E``, ``time_1..time_E``, ``val:<metric>`` and ``test:<metric>``.
A crashed row leaves the curve, times and metrics empty; its ``seconds`` is how long it ran.
``replicas.csv.gz`` has the same columns: further trainings of some recorded configurations
with other training seeds (several rows per id), the benchmark's seed noise.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE, META = "curves.csv.gz", "collection.json"  # the curves and the collection's identity
REFERENCES = "references.json"  # the task's reference rows on the recorded split
REPLICAS = "replicas.csv.gz"  # more trainings of some recorded configurations, other seeds


class TableError(ValueError):
    """A curves file that cannot be read; the one-line message names the file and the problem."""


def write_references(folder: Path, references: dict[str, dict[str, Any]]) -> None:
    """Keep a task's reference rows (``Task.references``) with its recording in ``folder``."""
    (folder / REFERENCES).write_text(json.dumps(references, indent=2) + "\n")


def read_references(folder: Path) -> dict[str, dict[str, Any]]:
    """The reference rows kept in ``folder`` (none when it keeps none); TableError when the
    file is unreadable."""
    path = folder / REFERENCES
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TableError(f"{path}: cannot read the reference rows: {exc}") from None


@dataclass(frozen=True)
class Recording:
    """One recorded configuration (see the module docstring)."""

    id: int
    config: dict[str, Any]
    train_seed: int
    curve: tuple[float, ...] = ()
    epoch_seconds: tuple[float, ...] = ()
    val: dict[str, float] | None = None
    test: dict[str, float] | None = None
    error: str | None = None
    crash_seconds: float = 0.0  # a crashed one: the seconds it ran before it failed

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def seconds(self) -> float:
        """The recorded training (+ validation) seconds, up to the crash for a crashed one."""
        return float(sum(self.epoch_seconds)) if self.ok else self.crash_seconds


def _number(text: str) -> float:
    return float(text) if text != "" else math.nan


def write_table(path: Path, recordings: Sequence[Recording], epochs: int) -> None:
    """Write ``recordings`` (sorted by id) to ``path`` atomically: a reader sees the old file or
    the new one, never a half-written one. Every ok recording must have ``epochs`` points."""
    metrics = sorted({m for r in recordings if r.ok for m in (r.val or {})})
    header = ["id", "config", "train_seed", "status", "error", "seconds"]
    header += [f"curve_{e}" for e in range(1, epochs + 1)]
    header += [f"time_{e}" for e in range(1, epochs + 1)]
    header += [f"val:{m}" for m in metrics] + [f"test:{m}" for m in metrics]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for r in sorted(recordings, key=lambda r: r.id):
        if r.ok and (len(r.curve) != epochs or len(r.epoch_seconds) != epochs):
            raise ValueError(f"recording {r.id} has {len(r.curve)} points, not {epochs}")
        blank = [""] * epochs
        row = [r.id, json.dumps(r.config, sort_keys=True), r.train_seed]
        row += ["ok" if r.ok else "crashed", r.error or "", f"{r.seconds:.4f}"]
        row += [f"{v:.6g}" for v in r.curve] if r.ok else blank
        row += [f"{v:.4f}" for v in r.epoch_seconds] if r.ok else blank
        for part in (r.val, r.test):
            row += [f"{(part or {}).get(m, math.nan):.6g}" if r.ok else "" for m in metrics]
        writer.writerow(row)
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wt", compresslevel=9) as handle:
        handle.write(text.getvalue())
    os.replace(tmp, path)


def read_table(path: Path) -> tuple[list[Recording], int]:
    """The recordings in ``path`` and the number of epochs each ok one holds.

    Raises TableError for a missing, unreadable or malformed file.
    """
    try:
        with gzip.open(path, "rt") as handle:
            rows = list(csv.reader(handle))
    except (OSError, EOFError, csv.Error) as exc:
        raise TableError(f"{path}: cannot read the recorded curves: {exc}") from None
    if not rows or rows[0][:6] != ["id", "config", "train_seed", "status", "error", "seconds"]:
        raise TableError(f"{path}: not a curves table (unexpected header)")
    header = rows[0]
    epochs = sum(name.startswith("curve_") for name in header)
    metrics = [name[4:] for name in header if name.startswith("val:")]
    recordings = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            fields = dict(zip(header, row, strict=True))
            ok = fields["status"] == "ok"
            recordings.append(
                Recording(
                    id=int(fields["id"]),
                    config=json.loads(fields["config"]),
                    train_seed=int(fields["train_seed"]),
                    curve=tuple(_number(fields[f"curve_{e}"]) for e in range(1, epochs + 1))
                    if ok
                    else (),
                    epoch_seconds=tuple(_number(fields[f"time_{e}"]) for e in range(1, epochs + 1))
                    if ok
                    else (),
                    val={m: _number(fields[f"val:{m}"]) for m in metrics} if ok else None,
                    test={m: _number(fields[f"test:{m}"]) for m in metrics} if ok else None,
                    error=None if ok else fields["error"] or "crashed",
                    crash_seconds=0.0 if ok else float(fields["seconds"] or 0.0),
                )
            )
        except (ValueError, KeyError) as exc:
            raise TableError(f"{path}: line {line} is malformed: {exc}") from None
    return recordings, epochs
