"""Replay modes: tasks answered from recorded learning curves, on a simulated clock.

``--mode tabular`` replays the table that ``python -m mfnas.collect`` recorded
(``benchmarks/<task>/``); ``--mode surrogate`` asks the XGBoost surrogate fitted on it by
``python -m mfnas.fit_surrogate`` (``surrogates/<task>/``). Both run under the same strategies,
runner, store and leaderboard as live training, with ``SimulatedExecutor`` as the executor.
"""

from __future__ import annotations

from pathlib import Path

from mfnas.replay.base import ReplayTask
from mfnas.replay.table import TABLE, TableError, read_table
from mfnas.strategies.base import PriorCurve
from mfnas.tasks.base import Task

MODES = ("live", "tabular", "surrogate")
_ROOTS = {"tabular": "benchmarks", "surrogate": "surrogates"}
_CHECKOUT = Path(__file__).resolve().parent.parent.parent


def replay_folder(mode: str, task: str, given: str | Path | None = None) -> Path:
    """Where a replay of ``task`` in ``mode`` reads from: ``given``, else ``<root>/<task>``
    under the working directory, else under the source checkout (``root`` is ``benchmarks``
    for tabular, ``surrogates`` for surrogate). Raises TableError when it does not exist."""
    if given is not None:
        candidates = [Path(given)]
    else:
        relative = Path(_ROOTS[mode]) / task
        candidates = [relative, _CHECKOUT / relative]
    for folder in candidates:
        if folder.is_dir():
            return folder
    make = "python -m mfnas.collect" if mode == "tabular" else "python -m mfnas.fit_surrogate"
    raise TableError(f"{candidates[0]}: no {mode} benchmark of {task!r} there; make it with {make}")


def make_replay_task(
    mode: str,
    folder: Path,
    reference_task: Task | None = None,
    ids: slice | None = None,
) -> ReplayTask:
    """The replay task in ``folder``; with ``ids`` (tabular only), only the recordings in that
    slice of the id-sorted table answer (``slice(0, None, 2)``: the even half)."""
    if mode == "tabular":
        from mfnas.replay.tabular import TabularTask

        task: ReplayTask = TabularTask.from_folder(folder, reference_task, ids)
    elif mode == "surrogate":
        from mfnas.replay.surrogate import SurrogateTask

        task = SurrogateTask.from_folder(folder)
    else:
        raise ValueError(f"unknown replay mode {mode!r}; choose from tabular, surrogate")
    task.reference_task = reference_task
    return task


def load_prior(folder: Path, ids: slice | None = None) -> tuple[PriorCurve, ...]:
    """The validation curves of the ok recordings in the benchmark ``folder`` (never test
    metrics), optionally only those in the ``ids`` slice of the id-sorted table."""
    recordings = sorted(read_table(folder / TABLE)[0], key=lambda r: r.id)
    chosen = recordings[ids] if ids is not None else recordings
    return tuple(PriorCurve(r.config, r.curve) for r in chosen if r.ok)


__all__ = ["MODES", "ReplayTask", "TableError", "load_prior", "make_replay_task", "replay_folder"]
