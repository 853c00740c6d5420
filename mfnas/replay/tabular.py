"""Tabular replay: evaluations answered from the recorded curves of ``python -m mfnas.collect``.

A proposed configuration that was recorded is answered with its own curve. One that was not
(strategies search the whole space, the table holds a sample of it) is answered with the
*nearest* recorded configuration: the smallest sum of squared differences of ConfigSpace's
normalised vectors, where a numerical hyperparameter differs by its distance in [0, 1], a
categorical one by 1 when the choices differ, and an inactive one by 1 against an active one.
The answer's ``extra["recorded_id"]`` names the recording used, so every trial record says
which recorded configuration produced its numbers, and ``extra["recorded_distance"]`` how far
it lies from the configuration asked (0: that configuration was recorded; the square root of
the sum of squares above). Strategies that search the whole space are answered almost always
by a neighbour: the leaderboard's ``answer_distance_mean`` says how far, per strategy. A
recorded crash crashes at every fidelity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter

from mfnas.direction import Direction
from mfnas.replay.base import ReplayTask
from mfnas.replay.table import (
    META,
    REPLICAS,
    TABLE,
    Recording,
    TableError,
    read_references,
    read_table,
)
from mfnas.spaces import config_key, config_vector
from mfnas.tasks.base import Checkpoint, Result, done_epochs


class RecordedCrash(RuntimeError):
    """The recorded configuration crashed when it was collected."""


class TabularTask(ReplayTask):
    """Replays ``recordings`` (all collected to ``epochs``) of task ``name`` over ``space``.

    ``evaluate(config, epochs, seed)`` returns the nearest recording's curve up to ``epochs``,
    its validation objective there, and its final validation and test metrics only at full
    fidelity. Where that configuration has ``replicas`` (trainings with other seeds, by id),
    the training seed picks one of its trainings (the first recording and its replicas, by
    ``seed`` modulo their number; the runner derives that seed from the run seed and the
    configuration), so different runs see the seed noise a live run would; elsewhere the seed
    is ignored. ``cost`` is the sum of the first recording's epoch seconds (a property of the
    configuration, whichever training answers); a recorded crash costs its recorded seconds
    pro rata. A continued evaluation costs the recorded seconds of its new epochs only.
    """

    mode = "tabular"

    def __init__(
        self,
        name: str,
        space: ConfigurationSpace,
        recordings: list[Recording],
        epochs: int,
        metric: str,
        maximize: bool,
        source: str = "",
        references: dict[str, dict[str, Any]] | None = None,
        replicas: list[Recording] | None = None,
    ) -> None:
        if not recordings:
            raise ValueError("a tabular task needs at least one recording")
        self.name, self.metric, self.direction = name, metric, Direction.of(maximize)
        self.min_epochs, self.max_epochs = 1, epochs
        self.source, self.recorded_references = source, references or {}
        self._space = space
        self.recordings = sorted(recordings, key=lambda r: r.id)
        self._vectors = np.array([config_vector(space, r.config) for r in self.recordings])
        self._categorical = np.array(
            [isinstance(hp, CategoricalHyperparameter) for hp in space.values()]
        )
        self._by_key = {
            config_key(self._configuration(r)): i for i, r in enumerate(self.recordings)
        }
        recorded = {r.id for r in self.recordings}
        self.replicas: dict[int, list[Recording]] = {}
        for replica in sorted(replicas or [], key=lambda r: (r.id, r.train_seed)):
            if replica.id in recorded and replica.ok:
                self.replicas.setdefault(replica.id, []).append(replica)

    @classmethod
    def from_folder(cls, folder: str | Path, ids: slice | None = None) -> TabularTask:
        """The recorded benchmark in ``folder`` (``curves.csv.gz`` + ``collection.json``, and
        the reference rows kept beside them); with ``ids``, only the recordings in that slice of
        the id-sorted table.

        Raises TableError when either file is missing or unreadable.
        """
        folder = Path(folder)
        try:
            meta = json.loads((folder / META).read_text())
            space = ConfigurationSpace.from_serialized_dict(meta["space"])
        except (OSError, ValueError, KeyError) as exc:
            raise TableError(
                f"{folder}: no recorded benchmark there ({META}: {exc}); record one with "
                f"python -m mfnas.collect"
            ) from None
        recordings, epochs = read_table(folder / TABLE)
        if ids is not None:
            recordings = sorted(recordings, key=lambda r: r.id)[ids]
        return cls(
            meta["task"],
            space,
            recordings,
            epochs or meta["epochs"],
            meta["metric"],
            meta["maximize"],
            str(folder),
            read_references(folder),
            read_table(folder / REPLICAS)[0] if (folder / REPLICAS).exists() else None,
        )

    def _configuration(self, recording: Recording) -> Configuration:
        return Configuration(self._space, values=recording.config)

    @property
    def space(self) -> ConfigurationSpace:
        return self._space

    def nearest(self, config: Configuration) -> Recording:
        """The recording of ``config`` itself, else the nearest one (see the module docstring)."""
        return self.recordings[self._nearest(config)[0]]

    def distance(self, config: Configuration) -> float:
        """The distance from ``config`` to the recording that answers it (0: recorded itself):
        the square root of the module docstring's sum of squares."""
        return self._nearest(config)[1]

    def _nearest(self, config: Configuration) -> tuple[int, float]:
        index = self._by_key.get(config_key(config))
        if index is not None:
            return index, 0.0
        vector = np.asarray(config.get_array(), dtype=float)
        diff = np.abs(self._vectors - vector)
        diff[:, self._categorical] = diff[:, self._categorical] > 0
        inactive = np.isnan(self._vectors) != np.isnan(vector)
        diff[inactive] = 1.0
        diff[np.isnan(diff)] = 0.0  # inactive on both sides
        squares = (diff**2).sum(axis=1)
        index = int(np.argmin(squares))  # ties: the lowest id
        return index, float(np.sqrt(squares[index]))

    def seconds_per_epoch(self) -> float:
        """The mean over the ok recordings of their mean recorded seconds per epoch."""
        rates = [sum(r.epoch_seconds) / len(r.epoch_seconds) for r in self.recordings if r.ok]
        return float(np.mean(rates)) if rates else 1.0

    def test_range(self) -> tuple[float, float]:
        """The worst and best final test objective among the recordings (regret's scale)."""
        tests = [r.test[self.metric] for r in self.recordings if r.ok and r.test]
        ranked = self.direction.ranked(tests, key=float)
        return ranked[-1], ranked[0]

    def cost(self, config: Configuration, epochs: int) -> float:
        self.check_epochs(epochs)
        recording = self.nearest(config)
        if not recording.ok:
            return recording.crash_seconds * min(1.0, epochs / self.max_epochs)
        return float(sum(recording.epoch_seconds[:epochs]))

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        index, distance = self._nearest(config)
        recording = self.recordings[index]
        if not recording.ok:
            raise RecordedCrash(f"recorded configuration {recording.id}: {recording.error}")
        trainings = [recording, *self.replicas.get(recording.id, ())]
        answer = trainings[seed % len(trainings)]
        full = epochs == self.max_epochs
        curve = answer.curve[:epochs]
        done = done_epochs(start)
        return Result(
            curve=curve,
            val=dict(answer.val or {}) if full else {self.metric: curve[-1]},
            test=dict(answer.test or {}) if full else None,
            seconds=float(sum(recording.epoch_seconds[done:epochs])),
            epochs=epochs,
            epoch_seconds=recording.epoch_seconds[:epochs],
            extra={"recorded_id": recording.id, "recorded_distance": round(distance, 6)}
            | ({"replica_seed": answer.train_seed} if answer is not recording else {}),
            continued_from=done,
        )
