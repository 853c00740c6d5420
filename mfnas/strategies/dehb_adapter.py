"""``dehb``: DEHB (differential evolution + Hyperband) from the ``dehb`` package, ask/tell.

``DEHB(cs=space, min_fidelity=min_epochs, max_fidelity=max_epochs, eta=3, n_workers=1)``
is asked for jobs with ``ask()`` and told ``tell(job_info, {"fitness": cost, "cost":
seconds})``, as its documentation's ask-and-tell loop does. Its fidelities
(``max_epochs * 3**-k``) are rounded to whole epochs. A configuration it promotes to a higher
fidelity is the same configuration asked for more epochs, so the runner continues its
training from the checkpoint of the lower rung (continuation on, the default).

- DEHB has no notion of a failed evaluation: a crashed trial is told the largest finite
  fitness, worse than any real one (DEHB only compares fitnesses; an infinite one would read
  as "not evaluated yet" and break its promotions).
- DEHB seeds and samples the space it is given, so it gets its own copy; its configurations
  are handed back as configurations of the problem's space.
- A job that does not fit what is left of the budget is kept for a later ask; a
  ``FullFidelityGuard`` makes a small budget end with a full training (not told to DEHB).
- DEHB writes a log file (and, if asked, its state) under ``output_path``: a temporary folder
  per strategy, with its saving turned off (``save_freq="end"``, and ``run`` is never called)
  and its log level at ERROR, so nothing reaches the terminal.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from typing import Any

from ConfigSpace import Configuration
from dehb import DEHB

from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import FullFidelityGuard
from mfnas.tasks.base import Result


class DEHBStrategy(Strategy):
    """DEHB's own ask/tell over [min_epochs, max_epochs], eta 3; see the module notes."""

    name = "dehb"
    eta = 3

    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self._workdir = tempfile.TemporaryDirectory(prefix="mfnas-dehb-")
        self._dehb = DEHB(
            cs=copy.deepcopy(problem.space),
            min_fidelity=problem.min_epochs,
            max_fidelity=problem.max_epochs,
            eta=self.eta,
            n_workers=1,
            seed=int(self.rng.integers(2**31 - 1)),
            output_path=self._workdir.name,
            log_level="ERROR",
            save_freq="end",
        )
        self._jobs: dict[int, dict[str, Any]] = {}  # mfnas trial id -> DEHB's job
        self._deferred: list[dict[str, Any]] = []
        self._guard = FullFidelityGuard(problem)

    def _epochs(self, job: dict[str, Any]) -> int:
        """The job's fidelity as whole epochs within the problem's range."""
        epochs = round(float(job["fidelity"]))
        return min(self.problem.max_epochs, max(self.problem.min_epochs, epochs))

    def _config(self, job: dict[str, Any]) -> Configuration:
        """The job's configuration as a configuration of the problem's space."""
        return Configuration(self.problem.space, values=dict(job["config"]))

    def ask(self, budget_left: int) -> TrialSpec | None:
        if budget_left < self.problem.min_epochs:
            return None
        job = self._deferred.pop(0) if self._deferred else self._dehb.ask()
        epochs = self._epochs(job)
        if self._guard.intercept(epochs, budget_left):
            self._deferred.insert(0, job)
            spec = self._guard.full_training(self._spec, self._config(job))
        elif epochs > budget_left:
            self._deferred.insert(0, job)
            return None
        else:
            spec = self._spec(self._config(job), epochs)
            self._jobs[spec.trial_id] = job
        self._guard.started(spec)
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        cost = None if result is None else self.cost(result)
        if self._guard.finished(spec, result, cost):
            return
        job = self._jobs.pop(spec.trial_id)
        fitness = sys.float_info.max if cost is None else cost
        seconds = 0.0 if result is None else result.seconds
        self._dehb.tell(job, {"fitness": fitness, "cost": seconds})
