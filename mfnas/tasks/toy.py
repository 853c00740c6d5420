"""``toy``: an analytic multi-fidelity task for tests (milliseconds per evaluation).

Each configuration has a final score in (0, 1) and a learning-curve speed; curves of different
configurations cross, and a small noise term is a deterministic function of (config, seed).
Being analytic, a continued evaluation recomputes its closed-form curve; its training state is
only the epoch count it reached (so that runs of the toy still write, read and check
checkpoints).
``toy-faulty`` is the same with deterministic crashes and NaN results, to exercise fault
handling.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.direction import Direction
from mfnas.spaces import config_seed, load_space
from mfnas.tasks.base import Checkpoint, Result, Task, done_epochs


class ToyTask(Task):
    """Analytic stand-in for a training task; metric ``score`` in (0, 1), maximised."""

    name = "toy"
    metric = "score"
    direction = Direction.MAXIMIZE
    min_epochs = 1

    def __init__(self, max_epochs: int | None = None) -> None:
        self.max_epochs = max_epochs or 27
        self._space: ConfigurationSpace | None = None

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            self._space = load_space("toy")
        return self._space

    def _final_and_speed(self, config: Configuration) -> tuple[float, float]:
        """The asymptotic score and the curve's time constant (epochs) of a configuration."""
        log_lr = math.log10(float(config["lr"]))  # -4 .. -1, best near -2.5
        quality = 1.0 - (float(config["x"]) - 0.3) ** 2 - 0.15 * (log_lr + 2.5) ** 2
        tau = 8.0 * 10 ** (-(log_lr + 2.5))  # a larger learning rate learns faster
        if config["arch"] == "deep":
            depth, width = int(config["depth"]), int(config["width"])
            quality += 0.12 - 0.03 * abs(depth - 3) + 0.01 * math.log2(width / 8)
            tau *= 1.0 + 0.4 * depth
        final = 0.9 / (1.0 + math.exp(-4.0 * (quality - 0.5)))
        return final, max(tau, 0.3)

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        began = time.perf_counter()
        done = done_epochs(start)
        if start is not None and start.state not in (None, {"epochs": done}):  # None: replayed
            raise ValueError(f"not a toy checkpoint after epoch {done}: {start.state!r}")
        final, tau = self._final_and_speed(config)
        rng = np.random.default_rng(config_seed(config, seed))
        steps = np.arange(1, epochs + 1)
        curve = final * (1.0 - np.exp(-steps / tau)) + rng.normal(0.0, 0.005, epochs)
        curve = np.clip(curve, 0.0, 0.99)
        last = float(curve[-1])
        test = float(np.clip(last + rng.normal(0.0, 0.01), 0.0, 0.99))
        seconds = time.perf_counter() - began
        return Result(
            curve=tuple(float(v) for v in curve),
            val={"score": last},
            test={"score": test},
            seconds=seconds,
            epochs=epochs,
            epoch_seconds=(seconds / (epochs - done),) * epochs,
            continued_from=done,
            state={"epochs": epochs},
        )


class FaultyToyTask(ToyTask):
    """``toy-faulty``: ``toy`` where about 20% of evaluations raise and 5% return NaN.

    Which ones is a deterministic function of (config, seed), so a run repeats exactly.
    """

    name = "toy-faulty"
    crash_rate = 0.20
    nan_rate = 0.05

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        draw = np.random.default_rng((seed, 0xFA17)).random()  # independent of the curve noise
        if draw < self.crash_rate:
            raise RuntimeError("simulated training failure")
        result = super()._evaluate(config, epochs, seed, start)
        if draw < self.crash_rate + self.nan_rate:
            return replace(result, curve=(*result.curve[:-1], math.nan))
        return result
