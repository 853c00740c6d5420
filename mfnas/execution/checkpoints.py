"""Continuation instead of retraining: which configuration of a study may continue from which
epoch, and, in a live run, the checkpoint files that hold the trainings to continue.

The cost model. Training is seeded per (configuration, run seed), so the first ``e`` epochs of
a longer training are an ``e``-epoch training. When a strategy asks for ``(config, e)`` and the
same configuration already reached ``e0 < e`` epochs in the study, the evaluation continues
from there: it trains ``e - e0`` epochs, returns the whole curve and is charged ``e - e0``
(``TrialRecord.continued_from`` says from where). Otherwise it trains from scratch, charged
``e`` (a configuration asked at or below the epochs it reached is trained again).

``Continuations`` is the runner's side, one per (strategy, seed) study. It decides each plan
when the strategy asks (so the budget is charged then, exactly), from the records committed so
far, and so a resumed study, rebuilt from its records in order, makes the same decisions.

- In a replay (``ReplayTask``), continuing is free of files: the recorded or predicted curve
  is the same, only the charge and the seconds change.
- In a live run, the end state of a trial that may be continued (below full fidelity, beyond
  what its configuration reached) is written by the evaluation itself (on the worker) into
  the study's checkpoint folder, atomically, as ``<key>-e<epochs>-t<trial>.ckpt``. Only a
  configuration's furthest checkpoint is kept (another goes once no evaluation in flight reads
  it); the checkpoints kept are held under ``cap_bytes`` by evicting the least recently used
  (files being written, and those still read, come on top). An evicted or missing checkpoint
  means retraining from scratch, charged in full: the cap changes cost, never results. The
  folder is emptied when the study ends.

``evaluate_with`` is the worker's side: it reads the checkpoint a plan names (refusing one of
another configuration, seed or epoch), runs the task and writes the end state where the plan
says. A worker that cannot reach the run folder (a cluster without a shared file system) fails
its trial with a ``CheckpointError`` saying so.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ConfigSpace import Configuration

from mfnas.spaces import config_key
from mfnas.tasks.base import Checkpoint, Result, Task, stopping_at

if TYPE_CHECKING:  # workers never import the strategies package
    from mfnas.store import TrialRecord
    from mfnas.strategies import TrialSpec

FORMAT = 1
SUFFIX = ".ckpt"
#: The default cap of a live run's checkpoint folder (``--checkpoint-mb``): a laptop's spare disk.
DEFAULT_CHECKPOINT_MB = 1024.0


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or written; the trial fails with this message."""


@dataclass(frozen=True)
class Plan:
    """How one evaluation starts and ends: continuing ``start`` (the result of the trial it
    continues, as recorded), reading the training state from the file ``load`` (live runs), and
    writing its own end state to ``save`` (live runs; None: nothing kept). The default plan
    trains from scratch and keeps nothing."""

    start: Result | None = None
    load: str | None = None
    save: str | None = None

    @property
    def continued_from(self) -> int:
        """The epochs the evaluation begins after (0 from scratch)."""
        return 0 if self.start is None else self.start.epochs


SCRATCH = Plan()


def checkpoint_identity(
    task: Task, config: Configuration, seed: int, epochs: int
) -> dict[str, Any]:
    """What a checkpoint file is checked against: the training it holds."""
    return {"task": task.name, "config": config_key(config), "seed": seed, "epochs": epochs}


def _stem(config: Configuration) -> str:
    """The start of the names of ``config``'s checkpoint files."""
    return hashlib.sha256(config_key(config).encode()).hexdigest()[:20]


def checkpoint_path(folder: Path, config: Configuration, epochs: int, trial_id: int) -> Path:
    """Where a study's ``folder`` keeps trial ``trial_id``'s ``epochs``-epoch training of
    ``config``."""
    return Path(folder) / f"{_stem(config)}-e{epochs}-t{trial_id}{SUFFIX}"


def kept_checkpoints(folder: Path, config: Configuration) -> list[tuple[int, int, Path]]:
    """The checkpoint files of ``config`` in a study's ``folder``, as (epochs, trial id,
    path), furthest first (none when the folder is gone: a finished study empties it)."""
    found = []
    for path in Path(folder).glob(f"{_stem(config)}-e*-t*{SUFFIX}"):
        epochs, trial = path.name[: -len(SUFFIX)].split("-")[1:]
        found.append((int(epochs[1:]), int(trial[1:]), path))
    return sorted(found, reverse=True)


def save_checkpoint(path: str, state: Any, identity: dict[str, Any]) -> int:
    """Write ``state`` with ``identity`` to ``path`` atomically (a kill leaves the old file or
    none, never half of one); return its size in bytes. Raises CheckpointError."""
    partial = f"{path}.partial-{uuid.uuid4().hex}"
    try:
        with open(partial, "wb") as handle:
            pickle.dump({"format": FORMAT, **identity, "state": state}, handle, protocol=5)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        return os.path.getsize(path)
    except BaseException as exc:
        Path(partial).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        raise CheckpointError(
            f"cannot write checkpoint {path}: {exc.strerror or exc}; the workers of a cluster "
            "need the run folder on a file system they share"
        ) from None


def load_checkpoint(path: str, identity: dict[str, Any]) -> Any:
    """The state kept in ``path``, after checking it is the checkpoint of ``identity``.
    Raises CheckpointError for a file that is missing, unreadable or of another training."""
    try:
        with open(path, "rb") as handle:
            kept = pickle.load(handle)
    except FileNotFoundError:
        raise CheckpointError(
            f"checkpoint {path} not found on this worker; the workers of a cluster need the "
            "run folder on a file system they share"
        ) from None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read: {exc}") from None
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not an mfnas checkpoint")
    found = {key: kept.get(key) for key in identity}
    if found != identity:
        raise CheckpointError(f"checkpoint {path} holds another training: {found} not {identity}")
    return kept["state"]


def evaluate_with(
    task: Task,
    config: Configuration,
    epochs: int,
    seed: int,
    plan: Plan,
    stop_at: float | None = None,
) -> Result:
    """``task.evaluate`` of ``config`` for ``epochs`` with training seed ``seed`` as ``plan``
    says: continuing its start (reading the state from ``plan.load``) and writing the end state
    to ``plan.save``; stopping after the epoch that crosses ``stop_at`` (a ``time.time()``
    reading) when given. The result's ``extra["checkpoint_bytes"]`` is the size written.
    Raises CheckpointError, and what ``evaluate`` raises."""
    start = None
    if plan.start is not None:
        state = None
        if plan.load is not None:
            state = load_checkpoint(
                plan.load, checkpoint_identity(task, config, seed, plan.continued_from)
            )
        start = Checkpoint(plan.start, state)
    with stopping_at(stop_at):
        result = task.evaluate(config, epochs, seed, start, keep=plan.save is not None)
    if plan.save is None:
        return result
    size = save_checkpoint(
        plan.save, result.state, checkpoint_identity(task, config, seed, result.epochs)
    )
    return replace(result, state=None, extra={**result.extra, "checkpoint_bytes": size})


@dataclass
class _Reached:
    """The furthest continuable training of one configuration: its result, and live its file."""

    result: Result
    path: str | None
    size: int
    used: int  # when it was last planned or written (least recently used goes first)


class Continuations:
    """The plans of one study (see the module docstring).

    ``enabled`` False: every evaluation trains from scratch. ``folder`` None: continuation
    without files (replay tasks). Otherwise checkpoints go to ``folder``, under ``cap_bytes``.
    ``max_epochs`` is the full fidelity (never checkpointed: nothing continues past it).
    """

    def __init__(
        self,
        max_epochs: int,
        enabled: bool = True,
        folder: Path | None = None,
        cap_bytes: int | None = None,
    ) -> None:
        self.max_epochs = max_epochs
        self.enabled = enabled
        self.folder = None if folder is None else folder.resolve()  # workers elsewhere read it
        self.cap_bytes = cap_bytes
        self._reached: dict[str, _Reached] = {}
        self._in_use: Counter[str] = Counter()
        self._doomed: set[str] = set()  # superseded or evicted files still read by a trial
        self._clock = itertools.count()
        self.stats = {"continued": 0, "written": 0, "evicted": 0, "peak_bytes": 0}

    def _path(self, spec: TrialSpec) -> str:
        assert self.folder is not None
        return str(checkpoint_path(self.folder, spec.config, spec.epochs, spec.trial_id))

    def plan(self, spec: TrialSpec, check_files: bool = True) -> Plan:
        """The plan of a trial the strategy just proposed. With ``check_files`` (not while a
        resumed study replays its records), a checkpoint whose file is gone is forgotten and
        the trial trains from scratch."""
        if not self.enabled:
            return SCRATCH
        key = config_key(spec.config)
        reached = self._reached.get(key)
        gone = reached is not None and reached.path is not None and not os.path.exists(reached.path)
        if check_files and gone:  # removed behind the run's back: train from scratch
            self._forget(key)
            reached = None
        further = reached is None or reached.result.epochs < spec.epochs
        keep = self.folder is not None and further and spec.epochs < self.max_epochs
        save = self._path(spec) if keep else None
        if reached is None or not further:
            return Plan(save=save)
        reached.used = next(self._clock)
        if reached.path is not None and check_files:
            self._in_use[reached.path] += 1
        return Plan(reached.result, reached.path, save)

    def release(self, plan: Plan) -> None:
        """A planned trial will not run (the strategy broke its contract): free its start."""
        if plan.load is not None and self._in_use[plan.load]:
            self._in_use[plan.load] -= 1

    def hold(self, plan: Plan) -> bool:
        """Keep ``plan`` for a trial that runs again after a resume: True (its start's file is
        held until it ends) unless that file is gone."""
        if plan.load is None:
            return True
        if not os.path.exists(plan.load):
            return False
        self._in_use[plan.load] += 1
        return True

    def ended(
        self, spec: TrialSpec, record: TrialRecord, result: Result | None, plan: Plan, files: bool
    ) -> None:
        """Take note of a committed record (``result`` is what it was told; None: crashed):
        it may be continued now. With ``files`` (not while replaying), release the checkpoint
        it read, and delete files superseded or evicted."""
        if files and plan.load is not None:
            self._in_use[plan.load] -= 1
        self.stats["continued"] += record.continued_from > 0
        key = config_key(spec.config)
        reached = self._reached.get(key)
        further = reached is None or reached.result.epochs < record.epochs
        continuable = result is not None and record.epochs < self.max_epochs and further
        if self.folder is None:
            if continuable:
                assert result is not None
                self._reached[key] = _Reached(result, None, 0, next(self._clock))
        elif plan.save is not None:
            if continuable and result is not None and "checkpoint_bytes" in result.extra:
                self._forget(key)
                size = int(result.extra["checkpoint_bytes"])
                self._reached[key] = _Reached(result, plan.save, size, next(self._clock))
                self.stats["written"] += 1
                self._evict()
            else:  # a crash after writing, or a checkpoint another trial went past meanwhile
                self._doomed.add(plan.save)
        self.stats["peak_bytes"] = max(self.stats["peak_bytes"], self._bytes())
        if files:
            for path in [p for p in self._doomed if not self._in_use[p]]:
                self._discard(path)

    def _bytes(self) -> int:
        return sum(r.size for r in self._reached.values())

    def _forget(self, key: str) -> None:
        reached = self._reached.pop(key, None)
        if reached is not None and reached.path is not None:
            self._doomed.add(reached.path)

    def _evict(self) -> None:
        """Drop the least recently used checkpoints until the folder fits the cap."""
        if self.folder is None or self.cap_bytes is None:
            return
        by_age = sorted(self._reached, key=lambda k: self._reached[k].used)
        for key in by_age:
            if self._bytes() <= self.cap_bytes:
                break
            self._forget(key)
            self.stats["evicted"] += 1

    def _discard(self, path: str) -> None:
        self._doomed.discard(path)
        Path(path).unlink(missing_ok=True)

    def reconcile(self, keep: list[Plan]) -> None:
        """After a resumed study replayed its records: delete every file of the folder that no
        kept checkpoint names, save the starts of the trials in ``keep`` (to run again; those go
        once they ended), so a trial cut short, a half-written ``.partial``, or one superseded
        or evicted before the stop; and forget kept checkpoints whose file is gone."""
        if self.folder is None:
            return
        named = {r.path for r in self._reached.values()}
        starts = {plan.load for plan in keep if plan.load is not None} - named
        if self.folder.exists():
            for path in self.folder.iterdir():
                if str(path) not in named | starts:
                    path.unlink(missing_ok=True)
        self._doomed = set(starts)
        for key in [k for k, r in self._reached.items() if not os.path.exists(str(r.path))]:
            self._reached.pop(key)

    def close(self) -> None:
        """The study ended: nothing will continue, its checkpoint folder goes."""
        self._reached.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
