"""The contract of replay tasks: tasks answered from recorded curves instead of training."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from ConfigSpace import Configuration

from mfnas.execution.executors import evaluate_trial
from mfnas.tasks.base import Task


class ReplayTask(Task):
    """A task whose ``evaluate`` looks up (tabular) or predicts (surrogate) what training
    ``config`` would give, in milliseconds, deterministically, whatever the seed.

    ``cost(config, epochs)`` is the seconds that training would have taken: what a simulated
    clock charges for the evaluation (``Result.seconds`` of a successful one is the same
    number). It is defined for configurations that crash too. ``mode`` names the replay kind
    for run metadata and leaderboards; ``source`` says where its data came from.
    ``references`` are the reference rows kept with the recording (computed on the live
    task's split when it was recorded), so a replay loads no data and fits no model for them.
    """

    mode: str
    source: str
    recorded_references: dict[str, dict[str, Any]]  # set by the subclass's constructor

    def references(self) -> dict[str, dict[str, Any]]:
        return self.recorded_references

    @abstractmethod
    def cost(self, config: Configuration, epochs: int) -> float:
        """Simulated seconds of training ``config`` for ``epochs`` epochs (>= 0)."""

    @abstractmethod
    def seconds_per_epoch(self) -> float:
        """The mean cost of an epoch over the task's configurations (what a budget in seconds
        is planned with): a property of the replayed data, the same every call."""


def label_candidates(task: ReplayTask, candidates: list[dict[str, Any]]) -> None:
    """Add ``truth``, the replayed full-fidelity objective (None for a crash), to each
    candidate ``{"config": active values, ...}`` a strategy's predictor ranked."""
    for candidate in candidates:
        config = Configuration(task.space, values=candidate["config"])
        result, _ = evaluate_trial(task, config, task.max_epochs, seed=0)
        candidate["truth"] = result.objective if result is not None else None
