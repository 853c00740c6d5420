"""A simulated clock for replay: ``SimulatedExecutor`` runs a study of hours in seconds.

It keeps the ``Executor`` contract (``mfnas.execution.executors``) on a simulated clock. ``slots``
simulated workers: a submitted evaluation is answered at once by the replay task, starts on
the simulated clock *now* and ends its cost later (``Result.seconds``: the recorded or predicted
seconds of the epochs it trains, only the new ones when it continues a training); ``wait``
advances the clock to the earliest end (an event queue), so trials end in the order they would
have on real workers, and that order is what the strategy is told. With a stop time, an
evaluation that would run past it ends after the epoch that crosses it, as a live trainer
stops between epochs. The real time the caller
spends between executor calls (the strategy deciding, the runner recording) is measured and
added to the clock, so a slow strategy pays for its own decisions as it would in a live run.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mfnas.execution.checkpoints import SCRATCH, Plan
from mfnas.execution.executors import Outcome, evaluate_trial
from mfnas.replay.base import ReplayTask
from mfnas.tasks.base import Result

if TYPE_CHECKING:
    from mfnas.strategies import TrialSpec


class SimulatedExecutor:
    """``slots`` simulated workers evaluating ``task`` on a simulated clock (module docstring).

    ``timer`` measures the caller's real decision time (seconds); tests pass a fake one.
    Ties (equal ends) come out together, in submission order.
    """

    def __init__(
        self, task: ReplayTask, slots: int = 1, timer: Callable[[], float] = time.perf_counter
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        self.task = task
        self.slots = slots
        self._timer = timer
        self._now = 0.0
        self._left_at: float | None = None  # the timer when control last went back to the caller
        self._events: list[tuple[float, int, Outcome]] = []
        self._order = itertools.count()
        self.decision_seconds = 0.0  # the caller's time charged so far

    def _enter(self) -> None:
        """Charge the caller's time since the last call to the clock."""
        if self._left_at is not None:
            spent = max(0.0, self._timer() - self._left_at)
            self._now += spent
            self.decision_seconds += spent

    def _leave(self) -> None:
        self._left_at = self._timer()

    def now(self) -> float:
        """The simulated clock (seconds), the caller's time so far included."""
        self._enter()
        self._leave()
        return self._now

    def submit(
        self, spec: TrialSpec, seed: int, plan: Plan = SCRATCH, stop_at: float | None = None
    ) -> None:
        self._enter()
        if len(self._events) >= self.slots:
            raise RuntimeError(f"all {self.slots} simulated workers are busy")
        result, error = evaluate_trial(self.task, spec.config, spec.epochs, seed, plan)
        if result is not None and stop_at is not None and self._now + result.seconds > stop_at:
            reached = self._reached_by(result, plan.continued_from, stop_at - self._now)
            if reached < spec.epochs:
                result, error = evaluate_trial(self.task, spec.config, reached, seed, plan)
        cost = result.seconds if result is not None else self._crash_cost(spec, plan)
        outcome = Outcome(spec, result, error, self._now, self._now + cost)
        heapq.heappush(self._events, (outcome.end, next(self._order), outcome))
        self._leave()

    @staticmethod
    def _reached_by(result: Result, done: int, seconds: float) -> int:
        """The epoch whose end first comes at or after ``seconds`` from the start of an
        evaluation that trains ``result``'s epochs after ``done`` (its last if none does)."""
        spent, even = 0.0, result.seconds / max(1, result.epochs - done)
        for epoch in range(done + 1, result.epochs + 1):
            spent += result.epoch_seconds[epoch - 1] if result.epoch_seconds else even
            if spent >= seconds:
                return epoch
        return result.epochs

    def _crash_cost(self, spec: TrialSpec, plan: Plan) -> float:
        """What a crashed evaluation costs: the seconds of the epochs it would have trained."""
        done = plan.continued_from
        before = self.task.cost(spec.config, done) if done else 0.0
        return max(0.0, self.task.cost(spec.config, spec.epochs) - before)

    def wait(self) -> list[Outcome]:
        self._enter()
        if not self._events:
            raise RuntimeError("nothing was submitted")
        self._now = max(self._now, self._events[0][0])
        ended = []
        while self._events and self._events[0][0] <= self._now:
            ended.append(heapq.heappop(self._events)[2])
        self._leave()
        return ended
