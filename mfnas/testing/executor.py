"""The Executor suite: an executor keeps the Executor contract of
``mfnas.execution.executors``.

What it proves, with the scripted toy of ``mfnas.testing.toys``: ``slots`` is what was asked
and that many evaluations submitted together run at once (their spans overlap on the
executor's clock; with ``concurrent``, a rendezvous proves they ran at the same real time);
``wait`` returns every ended evaluation exactly once, as an ``Outcome`` holding the result the
task gives for the trial's seed; a failed evaluation (an exception, a non-finite result) is an
Outcome with ``result`` None and its error text, never raised; ``start`` and ``end`` are
readings of ``now`` taken between the submission and the return of ``wait``, a start before
its end, and ends never go back from one ``wait`` to the next; a ``DataError`` propagates
(from ``wait``, or from ``submit`` where the executor evaluates there, as the simulated one
does).

Subclass it in a test module, set ``slots`` (and ``concurrent`` for executors whose
evaluations run in parallel in real time), and provide the fixture ``make_executor``: a
function from a task (a ``ReplayTask``, as the simulated executor needs) to an executor of
``slots`` slots evaluating it::

    class TestSerial(ExecutorSuite):
        @pytest.fixture
        def make_executor(self) -> Callable[[ReplayTask], Executor]:
            return SerialExecutor
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mfnas.data.movielens import DataError
from mfnas.execution.executors import Executor, Outcome
from mfnas.replay.base import ReplayTask
from mfnas.spaces import config_seed
from mfnas.strategies import TrialSpec
from mfnas.strategies.configs import sample_config
from mfnas.testing.toys import ScriptedToy

SEED = 5  # the run seed of every submission


def specs(task: ScriptedToy, epochs: list[int]) -> list[TrialSpec]:
    """Trials 0, 1, ... of sampled configurations, trained for the given ``epochs``."""
    rng = np.random.default_rng(0)
    return [TrialSpec(i, sample_config(task.space, rng), e) for i, e in enumerate(epochs)]


def run_all(executor: Executor, trials: list[TrialSpec]) -> list[list[Outcome]]:
    """Keep ``executor.slots`` of ``trials`` in flight until all ended; what each ``wait``
    returned, checking the clock readings: each start after the reading before its submission,
    each end before the reading after its ``wait``, ends never going back."""
    queue, running, waits = list(trials), {}, []
    last_end = -np.inf
    while queue or running:
        while queue and len(running) < executor.slots:
            spec = queue.pop(0)
            running[spec.trial_id] = executor.now()
            executor.submit(spec, SEED)
        outcomes = executor.wait()
        after = executor.now()
        assert outcomes, "wait returns at least one ended evaluation"
        for outcome in outcomes:
            assert isinstance(outcome, Outcome)
            submitted = running.pop(outcome.spec.trial_id)  # KeyError: not in flight (twice?)
            assert submitted <= outcome.start <= outcome.end <= after
        ends = sorted(outcome.end for outcome in outcomes)
        assert ends[0] >= last_end, "an end reading went back"
        last_end = ends[-1]
        waits.append(outcomes)
    return waits


class ExecutorSuite:
    """The Executor contract (module docstring); subclasses set ``slots`` (and
    ``concurrent``) and provide ``make_executor``."""

    slots: ClassVar[int] = 1
    concurrent: ClassVar[bool] = False

    @pytest.fixture
    def make_executor(self) -> Callable[[ReplayTask], Executor]:
        raise NotImplementedError("an ExecutorSuite subclass provides the fixture make_executor")

    def test_every_ended_evaluation_is_returned_once_with_its_result(
        self, make_executor: Callable[[ReplayTask], Executor]
    ) -> None:
        task = ScriptedToy()
        trials = specs(task, [1, 3, 2, 5, 4, 6])
        outcomes = [o for waited in run_all(make_executor(task), trials) for o in waited]
        assert sorted(o.spec.trial_id for o in outcomes) == [s.trial_id for s in trials]
        for outcome in outcomes:
            spec = trials[outcome.spec.trial_id]
            assert outcome.spec == spec and outcome.error is None
            expected = task.evaluate(spec.config, spec.epochs, config_seed(spec.config, SEED))
            assert outcome.result is not None
            assert (outcome.result.curve, outcome.result.val) == (expected.curve, expected.val)

    def test_failures_are_outcomes_with_their_error(
        self, make_executor: Callable[[ReplayTask], Executor]
    ) -> None:
        task = ScriptedToy()
        trials = specs(task, [task.RAISES, 2, task.NON_FINITE])
        waits = run_all(make_executor(task), trials)
        ended = {o.spec.trial_id: o for waited in waits for o in waited}
        assert (ended[0].result, ended[0].error) == (None, "RuntimeError: scripted failure")
        assert ended[1].result is not None and ended[1].error is None
        assert (ended[2].result, ended[2].error) == (None, "non-finite metric (diverged)")

    def test_slots_evaluations_run_at_once(
        self, make_executor: Callable[[ReplayTask], Executor], tmp_path: Path
    ) -> None:
        task = ScriptedToy(rendezvous=(tmp_path, self.slots) if self.concurrent else None)
        executor = make_executor(task)
        assert executor.slots == self.slots
        for spec in specs(task, [3] * self.slots):
            executor.submit(spec, SEED)
        outcomes: list[Outcome] = []
        while len(outcomes) < self.slots:
            outcomes += executor.wait()
        assert [o.error for o in outcomes] == [None] * self.slots
        assert max(o.start for o in outcomes) < min(o.end for o in outcomes), "spans overlap"

    def test_a_data_error_propagates(self, make_executor: Callable[[ReplayTask], Executor]) -> None:
        task = ScriptedToy()
        executor = make_executor(task)
        (spec,) = specs(task, [task.NO_DATA])
        with pytest.raises(DataError, match="scripted: no data"):
            executor.submit(spec, SEED)
            executor.wait()
