"""``asha``, ``bohb-st``, ``asha-bore``: syne-tune's asynchronous successive halving schedulers.

Each is the scheduler of that name in ``syne_tune.optimizer.baselines`` (``ASHA``: random
search; ``BOHB``: its kernel-density model; ``ASHABORE``: BORE's classifier on each rung),
with ``grace_period = min_epochs``, ``max_t = max_epochs``, ``reduction_factor = 3`` and one
bracket, minimising ``Strategy.cost``. It is driven the way syne-tune's own tuner drives it:

- A *training* is one syne-tune trial: ``suggest`` gives its configuration and
  ``on_trial_add`` registers it. mfnas runs it in chunks that end at the scheduler's rung
  levels (``min_epochs * 3**k``, then ``max_epochs``); when a chunk's result comes back, each
  epoch not reported before is reported with ``on_trial_result`` (one result per epoch, as a
  training script reports them).
- At a rung the scheduler says ``CONTINUE`` or ``STOP``. A continued training is paused and
  resumed by the next ask, before any new training (a syne-tune worker would keep training
  it): the runner continues it from its checkpoint (continuation on, the default), so every
  epoch is charged once; with ``--continuation off`` it retrains and pays again. A training
  that reaches ``max_epochs`` is completed with ``on_trial_complete``; a crashed chunk is
  ``on_trial_error``.
- A chunk that does not fit what is left of the budget waits; a ``FullFidelityGuard`` makes a
  small budget end with a full training, as for the other multi-fidelity adapters (not told
  to syne-tune).

Reproducibility: syne-tune 0.16 samples from numpy's global RNG (and parts of BORE from
Python's ``random``) whatever ``random_seed`` says. Every call into syne-tune therefore runs
with both global generators swapped for this strategy's own, seeded from the run seed, and
swapped back afterwards: the same seed gives the same trials, and nobody else's use of the
global generators changes them (or is changed by them).
"""

from __future__ import annotations

import datetime
import logging
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration
from syne_tune.backend.trial_status import Trial
from syne_tune.optimizer import baselines
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialScheduler

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import FullFidelityGuard
from mfnas.strategies.syne_tune_space import to_configuration, translate, within_bounds
from mfnas.tasks.base import Result

# the multi-fidelity searcher warns on every construction that the baselines pass
# points_to_evaluate twice (they pass it once each way, as the same value), and ASHA warns on
# every crashed trial, which the run records already
for _name in ("searchers.last_value_multi_fidelity_searcher", "asha"):
    logging.getLogger(f"syne_tune.optimizer.schedulers.{_name}").setLevel(logging.ERROR)

_METRIC, _TIME = "cost", "epoch"
_EPOCH0 = datetime.datetime(2000, 1, 1)  # trials' creation time: syne-tune's decisions ignore it


@dataclass
class _Training:
    """One syne-tune trial: its configuration and the epochs reported so far."""

    trial: Trial
    config: Configuration
    reported: int = 0


class SyneTuneStrategy(Strategy):
    """Base of the syne-tune strategies: ``scheduler`` names the baseline class."""

    scheduler: ClassVar[type[TrialScheduler]]
    eta: ClassVar[int] = 3

    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self._np_state = np.random.RandomState(int(self.rng.integers(2**31 - 1))).get_state()
        self._py_state = random.Random(int(self.rng.integers(2**31 - 1))).getstate()
        self._domains = translate(problem.space)
        with self._library_rng():
            self._scheduler = self.scheduler(
                self._domains,
                metric=_METRIC,
                time_attr=_TIME,
                max_t=problem.max_epochs,
                grace_period=problem.min_epochs,
                reduction_factor=self.eta,
                do_minimize=True,
                random_seed=int(self.rng.integers(2**31 - 1)),
            )
        self._rungs = self._rung_levels()
        self._paused: list[_Training] = []  # continued at a rung, waiting for their next chunk
        self._fresh: _Training | None = None  # suggested, not yet started: it did not fit
        self._running: dict[int, _Training] = {}  # mfnas trial id -> the training it advances
        self._guard = FullFidelityGuard(problem)
        self._next_trial = 0

    def _rung_levels(self) -> list[int]:
        """The epochs where the scheduler decides (its bracket's rungs), then ``max_epochs``."""
        levels = {round(milestone) for milestone, _ in self._scheduler.brackets[0].rungs}
        return [*sorted(e for e in levels if e < self.problem.max_epochs), self.problem.max_epochs]

    @contextmanager
    def _library_rng(self) -> Iterator[None]:
        """Run the enclosed syne-tune calls on this strategy's own global RNG states (and
        without the numeric warnings of statsmodels' kernels inside BOHB, e.g. a division by
        zero for a one-level variable, which BOHB handles)."""
        np_outer, py_outer = np.random.get_state(), random.getstate()
        np.random.set_state(self._np_state)
        random.setstate(self._py_state)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=RuntimeWarning, module="statsmodels")
                yield
        finally:
            self._np_state, self._py_state = np.random.get_state(), random.getstate()
            np.random.set_state(np_outer)
            random.setstate(py_outer)

    def _chunk_end(self, training: _Training) -> int:
        """The epochs the training reaches at the end of its next chunk (its next rung)."""
        return next(level for level in self._rungs if level > training.reported)

    def _suggest(self) -> _Training | None:
        """A new training of the scheduler's next configuration (None: it has none left)."""
        with self._library_rng():
            suggestion = self._scheduler.suggest()
        if suggestion is None or suggestion.config is None:
            return None
        values = within_bounds(self.problem.space, suggestion.config)
        trial = Trial(trial_id=self._next_trial, config=values, creation_time=_EPOCH0)
        self._next_trial += 1
        return _Training(trial, to_configuration(self.problem.space, values))

    def _next_training(self, budget_left: int) -> _Training | None:
        """The first paused training whose next chunk fits, else a new one if its first fits."""
        for i, training in enumerate(self._paused):
            if self._chunk_end(training) <= budget_left:
                return self._paused.pop(i)
        if self._fresh is None:
            self._fresh = self._suggest()
        if self._fresh is None or self._chunk_end(self._fresh) > budget_left:
            return None
        training, self._fresh = self._fresh, None
        with self._library_rng():
            self._scheduler.on_trial_add(training.trial)
        return training

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.min_epochs:
            return None
        training = self._next_training(budget_left)
        if training is None:
            return None
        epochs = self._chunk_end(training)
        if self._guard.intercept(epochs, budget_left):
            self._paused.insert(0, training)  # it runs first when it fits
            spec = self._guard.full_training(self._spec, training.config)
        else:
            spec = self._spec(training.config, epochs)
            self._running[spec.trial_id] = training
        self._guard.started(spec)
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        if self._guard.finished(spec, result, None if result is None else self.cost(result)):
            return
        training = self._running.pop(spec.trial_id)
        with self._library_rng():
            if result is None:
                self._scheduler.on_trial_error(training.trial)
                return
            decision = self._report(training, result, spec.epochs)
            if training.reported >= self.problem.max_epochs:
                self._scheduler.on_trial_complete(training.trial, self._row(result, spec.epochs))
                return
        if decision == SchedulerDecision.CONTINUE:
            self._paused.append(training)

    def _row(self, result: Result, epoch: int) -> dict[str, Any]:
        """The result a training script reports after ``epoch``: its cost then."""
        return {_METRIC: self.value_cost(result.curve[epoch - 1]), _TIME: epoch}

    def _report(self, training: _Training, result: Result, epochs: int) -> str:
        """Report each new epoch of ``result``; the scheduler's decision after the last one
        (or the first ``STOP``, after which nothing more is reported)."""
        decision = SchedulerDecision.CONTINUE
        for epoch in range(training.reported + 1, epochs + 1):
            decision = self._scheduler.on_trial_result(training.trial, self._row(result, epoch))
            training.reported = epoch
            if decision != SchedulerDecision.CONTINUE:
                break
        return decision


class ASHA(SyneTuneStrategy):
    """syne-tune's ``ASHA``: asynchronous successive halving over random configurations."""

    name = "asha"
    scheduler = baselines.ASHA


class BOHB(SyneTuneStrategy):
    """syne-tune's ``BOHB``: asynchronous successive halving whose new configurations come
    from kernel density estimates of the good and bad ones on the highest rung with enough
    data (Falkner et al., 2018, made asynchronous)."""

    name = "bohb-st"
    scheduler = baselines.BOHB


class ASHABORE(SyneTuneStrategy):
    """syne-tune's ``ASHABORE``: asynchronous successive halving whose new configurations
    maximise a classifier's probability of being among the best (BORE, Tiao et al., 2021)."""

    name = "asha-bore"
    scheduler = baselines.ASHABORE
