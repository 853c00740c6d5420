"""Training a classifier on whole-split tensors on the device: what the image, fashion and text
tasks share (their trainers say how a configuration becomes a model and its inputs)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.base import Checkpoint, Result, done_epochs
from mfnas.tasks.image.metrics import classification_metrics
from mfnas.tasks.training import (
    check_optimizer,
    make_optimizer,
    restore_training,
    seeded,
    train_epochs,
    training_result,
    training_state,
)

OBJECTIVE = "accuracy"
EVAL_BATCH = 512  # inputs per forward pass when scoring (bounds memory)

#: Each part's (inputs, labels) tensors on the device, keyed train, val and test.
Parts = dict[str, tuple[torch.Tensor, torch.Tensor]]


class ClassifierTrainer(ABC):
    """Trains configurations (from scratch, or continuing a checkpoint) of one classification
    task on one device. A subclass says what a configuration's model is (``build``, called
    inside the training's seeded block) and what it reads (``parts``)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    @abstractmethod
    def parts(self, config: Any) -> Parts:
        """The train, validation and test inputs and labels ``config`` trains and scores on."""

    @abstractmethod
    def build(self, config: Any, parts: Parts) -> nn.Module:
        """``config``'s untrained model (on the CPU); it maps inputs to logits."""

    def run(self, config: Any, epochs: int, seed: int, start: Checkpoint | None = None) -> Result:
        """Train ``config`` for ``epochs`` epochs with ``seed``; validate after every epoch.
        With ``start`` (a checkpoint of the same config and seed), restore its state and train
        only the epochs after it: the Result is the same as from scratch (bitwise on CPU).

        Each epoch draws a fresh permutation of the training inputs and takes its
        ``floor(n_train / batch_size)`` full mini-batches (the rest waits for a later
        shuffle). The learning rate is constant, so a training of ``e`` epochs is exactly the
        first ``e`` epochs of a longer one with the same seed. ``curve`` is the validation
        accuracy per epoch, ``val`` and ``test`` the metrics of ``metrics.NAMES`` after the
        last epoch, ``epoch_seconds`` the training + validation time of each epoch and
        ``seconds`` the whole call. Deterministic for a given (config, epochs, seed) on CPU
        with the same number of threads.
        Raises FloatingPointError when an epoch's training loss is not finite, ValueError for
        a batch size larger than the train part, an unknown optimizer, or what ``build``
        refuses.
        """
        check_optimizer(config.optimizer)
        started = time.perf_counter()
        parts = self.parts(config)
        n_train = len(parts["train"][1])
        if not 1 <= config.batch_size <= n_train:
            raise ValueError(f"batch_size must be 1..{n_train} (the train part)")
        with seeded(self.device, seed) as generator:  # initial weights and dropout masks too
            model = self.build(config, parts).to(self.device)
            optimizer = make_optimizer(config, model.parameters(), self.device)
            if start is not None:
                restore_training(start.state, model, optimizer, generator)
            losses, vals, epoch_seconds = train_epochs(
                epochs - done_epochs(start),
                lambda: self._epoch(model, optimizer, parts, config.batch_size, generator),
                lambda: self._metrics(model, parts["val"]),
            )
            test = self._metrics(model, parts["test"])
            state = training_state(model, optimizer, generator)
        return training_result(OBJECTIVE, vals, test, losses, epoch_seconds, started, start, state)

    def _epoch(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        parts: Parts,
        batch_size: int,
        generator: torch.Generator,
    ) -> float:
        """One pass over the shuffled training inputs; the mean batch loss."""
        model.train()
        inputs, labels = parts["train"]
        n = len(labels)
        order = torch.randperm(n, generator=generator, device=self.device)
        total, count = torch.zeros((), device=self.device), 0
        for index in order[: n - n % batch_size].split(batch_size):
            loss = F.cross_entropy(model(inputs[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
            count += 1
        return float(total) / count

    def _metrics(
        self, model: nn.Module, part: tuple[torch.Tensor, torch.Tensor]
    ) -> dict[str, float]:
        """The metrics of ``model`` on a whole part, in eval mode, scored in batches of
        ``EVAL_BATCH`` inputs (a part that fits in one is one forward pass)."""
        model.eval()
        inputs, labels = part
        with torch.inference_mode():
            scores = torch.cat([model(batch) for batch in inputs.split(EVAL_BATCH)])
            return classification_metrics(scores, labels)
