"""The Task contract: a search space, a fidelity range (epochs), a metric, and ``evaluate``."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.direction import Direction
from mfnas.spaces import load_space
from mfnas.tasks.device import check_device

#: Raise it when reference rows change for a reason their modules' source does not show.
REFERENCE_VERSION = 1
#: Where reference rows are cached (None: the data cache's folder, ``mfnas.data.cache_path``);
#: the test suite points it at a fresh folder per test session.
reference_cache_dir: Path | None = None


class ResultError(ValueError):
    """An evaluation's result breaks the Task contract (wrong curve length, non-finite values,
    a continuation that rewrote its prefix): the trial is recorded crashed with this error's
    text."""


_STOP_AT: ContextVar[float | None] = ContextVar("mfnas_stop_at", default=None)


@contextmanager
def stopping_at(wall: float | None) -> Iterator[None]:
    """Within the block, trainings stop after the epoch that ends at or past ``wall`` (a
    ``time.time()`` reading; None: never): what bounds a study by seconds. A trainer asks
    ``past_stop()`` between epochs."""
    token = _STOP_AT.set(wall)
    try:
        yield
    finally:
        _STOP_AT.reset(token)


def past_stop() -> bool:
    """True when the block of ``stopping_at`` has a stop time and it has come."""
    wall = _STOP_AT.get()
    return wall is not None and time.time() >= wall


@dataclass(frozen=True)
class Result:
    """What one evaluation produced.

    ``curve[e]`` is the validation objective after epoch ``e + 1``; ``len(curve) == epochs``.
    ``val`` and ``test`` hold every reported metric of the model after its last epoch;
    ``test`` is recorded for the store but is never shown to strategies (see ``for_strategy``).
    ``epoch_seconds`` is the training + validation time of every epoch of the curve.
    A training continued from a checkpoint after epoch ``continued_from`` holds the whole
    curve (the checkpoint's prefix, then the new epochs); ``seconds`` is the cost of this
    evaluation only (its ``epochs - continued_from`` epochs, and the final evaluation).
    ``state`` is the task's training state after the last epoch (what a ``Checkpoint`` keeps);
    it is set only when ``Task.evaluate`` was asked to ``keep`` it.
    """

    curve: tuple[float, ...]
    val: dict[str, float]
    test: dict[str, float] | None
    seconds: float
    epochs: int
    epoch_seconds: tuple[float, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    continued_from: int = 0
    state: Any = field(default=None, repr=False, compare=False)

    @property
    def objective(self) -> float:
        """The validation objective at the last epoch (what strategies optimise)."""
        return self.curve[-1]

    def is_finite(self) -> bool:
        """True when every curve point and metric is a finite number."""
        values = [*self.curve, *self.val.values(), *(self.test or {}).values()]
        return all(math.isfinite(v) for v in values)

    def for_strategy(self) -> Result:
        """A copy without test metrics or state: strategies select on validation only."""
        return replace(self, test=None, state=None)

    @property
    def charged_epochs(self) -> int:
        """The epochs this evaluation trained (what a budget pays for)."""
        return self.epochs - self.continued_from


def done_epochs(start: Checkpoint | None) -> int:
    """The epochs a training continuing ``start`` begins after (0 from scratch)."""
    return 0 if start is None else start.epochs


@dataclass(frozen=True)
class Checkpoint:
    """A training paused after ``result.epochs`` epochs: ``result`` is what those epochs gave
    (its test metrics may be absent) and ``state`` the task's own training state then (model,
    optimizer and random-generator state; None for replay tasks, whose curves are recorded)."""

    result: Result
    state: Any = None

    @property
    def epochs(self) -> int:
        return self.result.epochs


class Task(ABC):
    """A trainable problem with epochs as fidelity.

    Subclasses set ``name``, ``metric`` (the validation objective's name), ``direction``,
    ``min_epochs`` and ``max_epochs`` and provide ``space`` and the hook ``_evaluate``.
    A maximised objective lies in [0, 1] (NDCG, accuracy); a minimised one is a non-negative
    cost (RMSE).
    ``_evaluate`` must be deterministic for a given ``(config, epochs, seed)`` where the
    libraries allow it, and must raise (not return garbage) when training fails; ``evaluate``
    checks what goes in and what comes out around it.

    Continuation: the first ``e`` epochs of a longer training are an ``e``-epoch training (the
    training is seeded per (configuration, seed) and nothing depends on the total epoch
    count), so ``_evaluate(config, epochs, seed, start)`` given the ``Checkpoint`` of an
    earlier evaluation of the same (config, seed) trains only the epochs after it and returns
    what training ``epochs`` epochs from scratch returns (``continued_from`` and ``seconds``
    aside), its ``state`` set so that it can be continued in turn.
    """

    name: str
    metric: str
    direction: Direction = Direction.MAXIMIZE
    min_epochs: int = 1
    max_epochs: int

    @property
    def maximize(self) -> bool:
        """True when the objective is maximised (what stores and problems keep)."""
        return self.direction.maximize

    @property
    @abstractmethod
    def space(self) -> ConfigurationSpace:
        """The joint architecture + hyperparameter space, with conditions."""

    def check_epochs(self, epochs: int) -> None:
        """Raise ValueError unless ``min_epochs <= epochs <= max_epochs``."""
        if not self.min_epochs <= epochs <= self.max_epochs:
            raise ValueError(
                f"epochs must be in {self.min_epochs}..{self.max_epochs}, got {epochs}"
            )

    def evaluate(
        self,
        config: Configuration,
        epochs: int,
        seed: int,
        start: Checkpoint | None = None,
        keep: bool = False,
    ) -> Result:
        """Train ``config`` for ``epochs`` epochs with ``seed``, from scratch or continuing
        ``start`` (a checkpoint of the same config and seed, before ``epochs``); return its
        Result, holding its training ``state`` when ``keep``.

        Inside ``stopping_at``, a training may stop early, after the epoch that crossed the
        stop time: its Result then has fewer epochs than asked.

        Raises ValueError for epochs outside the fidelity range or a start not before them
        (before any work), whatever the hook raises when training fails, and ResultError when
        the hook's Result has not one curve point per epoch, holds a non-finite value (a
        diverged training) or does not begin with the start's curve.
        """
        self.check_epochs(epochs)
        if start is not None and not 1 <= start.epochs < epochs:
            raise ValueError(f"cannot continue a training of {start.epochs} epochs to {epochs}")
        result = self._evaluate(config, int(epochs), int(seed), start)
        stopped = result.epochs < epochs and past_stop()
        if len(result.curve) != result.epochs or (result.epochs != epochs and not stopped):
            raise ResultError(f"task returned {len(result.curve)} curve points for {epochs} epochs")
        if not result.is_finite():
            raise ResultError("non-finite metric (diverged)")
        if start is not None and (
            result.continued_from != start.epochs
            or result.curve[: start.epochs] != start.result.curve
        ):
            raise ResultError(f"the continuation from epoch {start.epochs} changed its prefix")
        return result if keep else replace(result, state=None)

    @abstractmethod
    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        """The task's own training (the hook of ``evaluate``, which checks around it)."""

    def data_card(self) -> str:
        """One sentence for data cards: the data and the split this task trains and scores on."""
        return f"the analytic `{self.name}` task (no data)."

    def references(self) -> dict[str, dict[str, Any]]:
        """Reference rows for the leaderboard, not searched: ``{name: {"val": metrics,
        "test": metrics, ...}}`` computed on the same data split. None by default."""
        return {}


class TrainedTask(Task):
    """Base of the tasks that train real models: its space is ``spaces/<name>.yaml``, the
    constructor stores its parameters (refusing a device that is not there), and what is
    loaded or built on first use (data, split, trainer) lives in the attributes named by
    ``cached``: None until then, and dropped when the task is pickled (a Dask worker rebuilds
    them)."""

    cached: ClassVar[tuple[str, ...]] = ()
    reference_modules: ClassVar[tuple[str, ...]] = ()  # the code that computes the references

    def __init__(
        self,
        data_dir: str | Path | None = None,
        device: str = "auto",
        split_seed: int = 0,
        max_epochs: int | None = None,
    ) -> None:
        check_device(device)  # an unusable device is refused now, not in every trial
        self.data_dir = data_dir
        self.device = device
        self.split_seed = split_seed
        if max_epochs is not None:
            self.max_epochs = max_epochs
        for name in self.cached:
            setattr(self, name, None)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, **dict.fromkeys(self.cached)}

    def evaluate(
        self,
        config: Configuration,
        epochs: int,
        seed: int,
        start: Checkpoint | None = None,
        keep: bool = False,
    ) -> Result:
        """``Task.evaluate``, with a kept training state moved to the CPU (a checkpoint does
        not depend on the device it was trained on); a state not kept is never copied off it."""
        result = super().evaluate(config, epochs, seed, start, keep)
        if result.state is None:
            return result
        from mfnas.tasks.training import on_cpu  # torch is imported by training only

        return replace(result, state=on_cpu(result.state))

    @property
    def space(self) -> ConfigurationSpace:
        return load_space(self.name)

    def references(self) -> dict[str, dict[str, Any]]:
        """``_references()``, computed once per data split and kept in the cache
        (``references-<task>-<key>.json`` where the data caches go): the key hashes the
        split's contents and the source of ``reference_modules``, so another split, other
        data or changed reference code computes them again."""
        from mfnas.data import cache_path, read_json_cache, write_json_cache

        name = f"references-{self.name}-{self._reference_key()}.json"
        path = reference_cache_dir / name if reference_cache_dir else cache_path(name, None)
        rows = read_json_cache(path, "reference rows")
        if rows is None:
            rows = json.loads(json.dumps(self._references()))  # what the cache will give back
            write_json_cache(path, "reference rows", rows)
        return rows

    def _references(self) -> dict[str, dict[str, Any]]:
        """The reference rows, computed (see ``Task.references``); none by default."""
        return {}

    def _reference_key(self) -> str:
        """A short hash of the split (every field of ``self.split``; arrays by their bytes,
        dtype and shape), of the source files of ``reference_modules`` (the reference code and
        the evaluation code it scores with) and of ``REFERENCE_VERSION``."""
        digest = hashlib.sha256(f"{self.name}|{REFERENCE_VERSION}".encode())
        split = self.split  # type: ignore[attr-defined]
        for item in dataclasses.fields(split):
            value = getattr(split, item.name)
            if isinstance(value, np.ndarray):
                digest.update(f"{item.name}{value.dtype}{value.shape}".encode())
                digest.update(np.ascontiguousarray(value).tobytes())
            else:
                digest.update(f"{item.name}={value!r}".encode())
        for module in self.reference_modules:
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.origin is not None:
                digest.update(Path(spec.origin).read_bytes())
        return digest.hexdigest()[:16]
