"""Evaluations on Dask workers: a local cluster of processes, or an existing cluster.

Only the client process (the runner) talks to the strategy and writes the store; a worker
receives ``(task, config, epochs, seed)``, the trial's plan (the checkpoint to continue and
where to keep its own, as paths of the run folder: a cluster's workers need it on a file
system they share) and when to stop (a ``time.time()`` reading), and returns
``(result, error)``. Failures end as
Outcomes (see ``mfnas.execution.executors``): a worker that dies while evaluating
(``KilledWorker``, a closed connection) gets its trial resubmitted once, then recorded
crashed. An evaluation that runs past the trial timeout, counted from when a worker began it,
is cancelled, its worker process ended (a Python thread cannot be stopped otherwise; a nanny
starts a fresh worker), and recorded crashed.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import dask
import distributed
from ConfigSpace import Configuration
from distributed import Client, Future, LocalCluster

from mfnas.data.movielens import DataError
from mfnas.execution import interrupts
from mfnas.execution.checkpoints import SCRATCH, Plan
from mfnas.execution.executors import Outcome, evaluate_trial, wall_time
from mfnas.tasks.base import Result, Task

if TYPE_CHECKING:  # workers unpickle this module's function: keep SMAC and Optuna out of them
    from mfnas.strategies import TrialSpec

logger = logging.getLogger(__name__)

# How the local cluster's workers are started (dask config):
# - Dask's nanny gives each worker MALLOC_TRIM_THRESHOLD_=65536 (to return freed memory to the
#   OS sooner). Setting that variable turns off glibc's adaptive mmap threshold, so every
#   tensor over 128 KiB is mapped afresh and page-faulted in at each training step: an MF
#   evaluation took 2.8 times the CPU time with it (ten times the page faults), in a worker or
#   in a plain process alike. Workers start without it (or with the user's own setting).
# - A worker's own sampling profiler walks the busy thread's stack every 10 ms (holding the GIL
#   the training loop needs), and with gilknocker installed its system monitor polls the GIL
#   every 1 ms: CPU taken from the evaluation on a small machine, for output a run never reads.
LOCAL_WORKERS = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
}
POLL_SECONDS = 0.5  # how often a wait looks for interrupts and evaluations begun meanwhile
DROP_SECONDS = 30.0  # the longest wait for the scheduler to drop a worker ended after a timeout

_worker_task: tuple[str, Task] | None = None  # on a worker: the task of the current run


def _evaluate_on_worker(
    token: str,
    task: Task,
    config: Configuration,
    epochs: int,
    seed: int,
    plan: Plan,
    stop_at: float | None,
    topic: str | None,
) -> tuple[Result | None, str | None]:
    """Runs on a worker: ``evaluate_trial`` with torch on one thread.

    Announces its start on event ``topic`` (when given) with its task key. The worker keeps the
    first copy of each run's task (``token``), so data a task caches (RecsysTask's split) is
    loaded once per worker, not once per trial. Torch is limited here when the task has loaded
    it; a task importing it later still gets one thread from the ``OMP_NUM_THREADS=1`` that a
    Dask nanny sets for its worker.
    """
    global _worker_task
    if topic is not None:
        worker = distributed.get_worker()
        worker.log_event(topic, worker.get_current_task())
    if _worker_task is None or _worker_task[0] != token:
        _worker_task = (token, task)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    return evaluate_trial(_worker_task[1], config, epochs, seed, plan, stop_at)


def _quiet() -> None:
    """Keep distributed's warnings about evaluations cut short by an interrupt off stderr
    (runs on this process, the local cluster's workers and their nannies)."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _end_process() -> None:
    """Runs on a worker's event loop (not in its busy thread): end the worker process now."""
    os._exit(1)


@dataclass(frozen=True)
class _Attempt:
    spec: TrialSpec
    seed: int
    plan: Plan
    stop_at: float | None  # a time.time() reading
    start: float  # submission of the first attempt: a retried trial's cost covers both
    retried: bool


class DaskExecutor:
    """Evaluations of ``task`` on the workers of ``client``, ``slots`` at once.

    ``trial_timeout`` (seconds, None for none) bounds each attempt from the moment a worker
    begins it. The task must pickle.
    """

    def __init__(
        self, client: Client, task: Task, slots: int, trial_timeout: float | None = None
    ) -> None:
        self.slots = slots
        self._client = client
        self._task = task
        self._timeout = trial_timeout
        self._token = uuid.uuid4().hex
        self._running: dict[Future, _Attempt] = {}
        self._began: dict[Any, float] = {}  # task key -> when its start event arrived
        self._topic = f"mfnas-began-{self._token}" if trial_timeout else None
        if self._topic is not None:
            client.subscribe_topic(self._topic, self._on_began)

    now = staticmethod(time.perf_counter)

    def _on_began(self, event: tuple[float, Any]) -> None:
        self._began[event[1]] = time.perf_counter()

    def submit(
        self, spec: TrialSpec, seed: int, plan: Plan = SCRATCH, stop_at: float | None = None
    ) -> None:
        now = time.perf_counter()
        self._submit(_Attempt(spec, seed, plan, wall_time(stop_at, now), now, retried=False))

    def _submit(self, attempt: _Attempt) -> None:
        spec = attempt.spec
        future = self._client.submit(
            _evaluate_on_worker,
            *(self._token, self._task, spec.config, spec.epochs, attempt.seed, attempt.plan),
            attempt.stop_at,
            self._topic,
            pure=False,
        )
        self._running[future] = attempt

    def _deadline(self, future: Future) -> float:
        began = self._began.get(future.key)
        return float("inf") if began is None or not self._timeout else began + self._timeout

    def wait(self) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while not outcomes:
            if not self._running:
                raise RuntimeError("nothing was submitted")
            interrupts.check()  # a Ctrl-C that a library callback swallowed still ends the run
            timeout = POLL_SECONDS
            if self._timeout:
                deadline = min(map(self._deadline, self._running))
                timeout = min(max(deadline - time.perf_counter(), 0.0), POLL_SECONDS)
            # late ones are handled below; cancelled ones (the scheduler was lost) count as lost
            with suppress(distributed.TimeoutError, CancelledError):
                distributed.wait(list(self._running), timeout, return_when="FIRST_COMPLETED")
            for future in [f for f in self._running if f.status != "pending"]:
                outcome = self._ended(future)
                if outcome is not None:
                    outcomes.append(outcome)
            now = time.perf_counter()
            late = [f for f in self._running if self._deadline(f) <= now]
            outcomes.extend(self._time_out(future) for future in late)
        return outcomes

    def _ended(self, future: Future) -> Outcome | None:
        """The outcome of an ended future, or None when it was resubmitted (first loss)."""
        attempt = self._running.pop(future)
        self._began.pop(future.key, None)
        if future.status == "finished":
            result, error = future.result()
            return Outcome(attempt.spec, result, error, attempt.start, time.perf_counter())
        # else the worker died or the connection broke (the task's own failures are Outcomes)
        exc = future.exception() if future.status == "error" else None
        if isinstance(exc, DataError):
            raise exc  # raised by the task on the worker: the run cannot go on
        lost = f"{type(exc).__name__}: {exc}".splitlines()[0] if exc else f"future {future.status}"
        if not attempt.retried:
            logger.warning("trial %d lost (%s); retrying once", attempt.spec.trial_id, lost)
            self._submit(replace(attempt, retried=True))
            return None
        error = f"worker lost twice, last: {lost}"
        return Outcome(attempt.spec, None, error, attempt.start, time.perf_counter())

    def _time_out(self, future: Future) -> Outcome:
        """Cancel a late evaluation and end the process of the worker running it (a Python
        thread cannot be stopped; its nanny, if any, starts a fresh worker). Waits until the
        scheduler has dropped that worker, so that no later trial is sent to it. Crashed."""
        attempt, end = self._running.pop(future), time.perf_counter()
        self._began.pop(future.key, None)
        workers = {w for w, keys in self._client.processing().items() if future.key in keys}
        future.cancel()
        if workers:
            self._client.run(_end_process, workers=list(workers), on_error="ignore")
            give_up = time.perf_counter() + DROP_SECONDS
            while workers & set(self._client.nthreads()) and time.perf_counter() < give_up:
                time.sleep(0.05)
        error = f"timed out after {self._timeout:g} s"
        return Outcome(attempt.spec, None, error, attempt.start, end)


@contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[tuple[Client, int]]:
    """A Client and how many evaluations to keep in flight; closed (with its cluster) on exit.

    With ``scheduler`` (an address), join that cluster; ``workers`` defaults to its worker
    threads at connection (at least 1). Otherwise start a ``LocalCluster`` of ``workers``
    single-threaded processes whose scheduler gives a worker one task at a time and lets no
    task survive a worker death on its own, so the executor's single retry is the only one,
    and whose workers keep glibc's default allocator settings and do not profile themselves
    (``LOCAL_WORKERS``).
    """
    cluster: LocalCluster | None = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        config = {
            "distributed.scheduler.allowed-failures": 0,
            "distributed.scheduler.worker-saturation": 1.0,
            **LOCAL_WORKERS,
        }
        with dask.config.set(config), interrupts.worker_processes():  # Ctrl-C is the run's
            cluster = LocalCluster(
                n_workers=workers or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: never a warning about 8787
            )
        client = Client(cluster)
    try:
        yield client, workers or max(sum(client.nthreads().values()), 1)
    except BaseException:  # an interrupt: evaluations are cut short, nobody needs their logs
        if cluster is not None:
            with suppress(Exception):
                client.run(_quiet, on_error="ignore")
                client.run(_quiet, nanny=True, on_error="ignore")
            _quiet()
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
