"""Test tasks of the Executor suite: ``toy`` as a replay task whose fidelity scripts its fate.

Kept apart from the suites (no pytest, SMAC or Optuna imports), so that Dask workers unpickle
them cheaply.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

from ConfigSpace import Configuration

from mfnas.data.movielens import DataError
from mfnas.replay.base import ReplayTask
from mfnas.tasks.base import Checkpoint, Result
from mfnas.tasks.toy import ToyTask

RENDEZVOUS_SECONDS = 60.0  # the longest an evaluation waits for the others of its rendezvous


class ScriptedToy(ReplayTask, ToyTask):
    """``toy`` with 9 epochs, usable by every executor (the simulated one needs ``cost``):
    training costs one simulated second per epoch, and the epochs asked decide what happens.

    ``RAISES`` epochs raise RuntimeError, ``NON_FINITE`` epochs end on NaN (``evaluate`` then
    raises ResultError), ``NO_DATA`` epochs raise DataError; fewer epochs train normally.
    With ``rendezvous`` (a folder and a count), a normal evaluation first leaves a mark in the
    folder and then waits until ``count`` marks are there: it ends only if that many
    evaluations ran at once, else it raises TimeoutError after ``RENDEZVOUS_SECONDS``.
    """

    mode = "scripted"
    source = "mfnas.testing.toys"
    RAISES, NON_FINITE, NO_DATA = 7, 8, 9

    def __init__(self, rendezvous: tuple[Path, int] | None = None) -> None:
        super().__init__(max_epochs=9)
        self.rendezvous = rendezvous

    def cost(self, config: Configuration, epochs: int) -> float:
        return float(epochs)

    def seconds_per_epoch(self) -> float:
        return 1.0

    def _meet(self, folder: Path, count: int) -> None:
        (folder / uuid.uuid4().hex).touch()
        give_up = time.monotonic() + RENDEZVOUS_SECONDS
        while (met := len(list(folder.iterdir()))) < count:
            if time.monotonic() > give_up:
                raise TimeoutError(f"only {met} of {count} evaluations ran at once")
            time.sleep(0.01)

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        if epochs == self.RAISES:
            raise RuntimeError("scripted failure")
        if epochs == self.NO_DATA:
            raise DataError("scripted: no data")
        if self.rendezvous is not None:
            self._meet(*self.rendezvous)
        result = super()._evaluate(config, epochs, seed, start)
        result = replace(result, seconds=float(result.charged_epochs))
        if epochs == self.NON_FINITE:
            return replace(result, curve=(*result.curve[:-1], math.nan))
        return result


class BlockingToy(ToyTask):
    """``toy`` whose first evaluation in any process creates ``marker`` and then never ends,
    so that a test interrupts a run at a known moment instead of racing it; once the marker
    exists (a resumed run), every evaluation trains normally."""

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self.marker = marker

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return super()._evaluate(config, epochs, seed, start)
        while True:  # until the process is told to end
            time.sleep(1.0)
