"""Executors run the evaluations a study submits; ``SerialExecutor`` runs them in this process.

Contract (``Executor``): at most ``slots`` evaluations are in flight at once; ``submit`` starts
one; ``wait`` blocks until at least one submitted evaluation has ended and returns every one
that has, each exactly once, as an ``Outcome``. A failed evaluation (an exception, a non-finite
metric, a timeout, a lost worker) is an Outcome without result and with its error text; it is
never raised. Only ``DataError`` (no usable data: the run cannot go on, and it is no trial's
fault) propagates, out of ``wait`` (or ``submit``, where an executor evaluates at once). The
Dask executor lives in ``mfnas.execution.dask_executor``, so that a serial run imports no Dask.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ConfigSpace import Configuration

from mfnas.data.movielens import DataError
from mfnas.execution.checkpoints import SCRATCH, Plan, evaluate_with
from mfnas.spaces import config_seed
from mfnas.tasks.base import Result, ResultError, Task

if TYPE_CHECKING:  # the strategies package is heavy (SMAC, Optuna); workers never import it
    from mfnas.strategies import TrialSpec


@dataclass(frozen=True)
class Outcome:
    """One ended evaluation: its result, or ``None`` and the error text when it failed.

    ``start`` and ``end`` are readings of the executor's clock (``Executor.now``):
    ``time.perf_counter()`` of the submitting process, or a simulated clock in replay.
    """

    spec: TrialSpec
    result: Result | None
    error: str | None
    start: float
    end: float


def evaluate_trial(
    task: Task,
    config: Configuration,
    epochs: int,
    seed: int,
    plan: Plan = SCRATCH,
    stop_at: float | None = None,
) -> tuple[Result | None, str | None]:
    """Run one evaluation as ``plan`` says (from scratch, or continuing a checkpoint; see
    ``mfnas.execution.checkpoints``), stopping after the epoch that crosses ``stop_at`` (a
    ``time.time()`` reading) when given; exceptions and non-finite results become
    ``(None, error text)``.

    The training seed is ``config_seed(config, seed)``: the same config trains the same way at
    every fidelity of a run seeded ``seed``. A ``DataError`` is raised, not recorded.
    """
    try:
        result = evaluate_with(task, config, epochs, config_seed(config, seed), plan, stop_at)
    except DataError:
        raise
    except ResultError as exc:  # the task's result broke the contract: its message says how
        return None, str(exc)
    except Exception as exc:  # a crashing trial is recorded, never fatal to the run
        return None, traceback.format_exception_only(exc)[-1].strip()
    return result, None


def wall_time(moment: float | None, now: float) -> float | None:
    """``moment``, a reading of a clock that reads ``now`` at present, as a ``time.time()``
    reading (what a worker on another machine can compare with its own clock)."""
    return None if moment is None else time.time() + (moment - now)


class Executor(Protocol):
    """Where a study's evaluations run (see the module docstring for the contract)."""

    @property
    def slots(self) -> int:
        """How many evaluations may be in flight at once (at least 1)."""
        ...

    def now(self) -> float:
        """The clock that ``Outcome.start`` and ``end`` are read on (seconds)."""
        ...

    def submit(
        self, spec: TrialSpec, seed: int, plan: Plan = SCRATCH, stop_at: float | None = None
    ) -> None:
        """Start evaluating ``spec`` for a run seeded ``seed`` as ``plan`` says; only with a
        slot free. With ``stop_at`` (a reading of ``now``), the training stops after the epoch
        that ends at or past it, and its Outcome's result has the epochs it reached."""
        ...

    def wait(self) -> list[Outcome]:
        """Block until at least one submitted evaluation ended; return all that have."""
        ...


class SerialExecutor:
    """Evaluations of ``task`` one at a time in this process (``--workers 1``, the default).

    ``submit`` only queues; the evaluation runs inside ``wait``. It cannot stop an evaluation
    that hangs: a trial timeout needs worker processes (``mfnas.execution.dask_executor``).
    """

    slots = 1

    def __init__(self, task: Task) -> None:
        self.task = task
        self._queued: tuple[TrialSpec, int, Plan, float | None] | None = None

    now = staticmethod(time.perf_counter)

    def submit(
        self, spec: TrialSpec, seed: int, plan: Plan = SCRATCH, stop_at: float | None = None
    ) -> None:
        if self._queued is not None:
            raise RuntimeError("SerialExecutor runs one evaluation at a time")
        self._queued = (spec, seed, plan, wall_time(stop_at, self.now()))

    def wait(self) -> list[Outcome]:
        if self._queued is None:
            raise RuntimeError("nothing was submitted")
        (spec, seed, plan, stop_at), self._queued = self._queued, None
        start = time.perf_counter()
        result, error = evaluate_trial(self.task, spec.config, spec.epochs, seed, plan, stop_at)
        return [Outcome(spec, result, error, start, time.perf_counter())]
