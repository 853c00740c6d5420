"""A task searched over another space than its own (``--space FILE``)."""

from __future__ import annotations

from typing import Any

from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.spaces import check_subspace
from mfnas.tasks.base import Checkpoint, Result, Task


class SpaceOverride(Task):
    """``task`` with ``space`` instead of its own; everything else is ``task``'s.

    The task receives configurations of ``space``, so their names and values must be ones it
    understands (``check_subspace``, raising SpaceError, at construction). Pickles whenever
    ``task`` does (Dask workers receive it).
    """

    def __init__(self, task: Task, space: ConfigurationSpace, source: str = "--space") -> None:
        check_subspace(space, task.space, source)  # SpaceError: values the task cannot build
        self.task = task
        self._space = space
        self.name, self.metric, self.direction = task.name, task.metric, task.direction
        self.min_epochs, self.max_epochs = task.min_epochs, task.max_epochs

    @property
    def space(self) -> ConfigurationSpace:
        return self._space

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        return self.task.evaluate(config, epochs, seed, start, keep=True)

    def references(self) -> dict[str, dict[str, Any]]:
        return self.task.references()
