"""Training a CNN on an image split with whole-split tensors on the device."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.base import Checkpoint, Result, done_epochs
from mfnas.tasks.image.data import ImageSplit
from mfnas.tasks.image.metrics import classification_metrics
from mfnas.tasks.image.model import ImageConfig, build_cnn
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
EVAL_BATCH = 512  # images per forward pass when scoring (bounds memory on 28x28 inputs)


class ImageTrainer:
    """Trains configurations (from scratch, or continuing a checkpoint) on one split and device.

    Built once per (split, device) and reused: it keeps the train, validation and test images
    and labels on the device as whole tensors.
    """

    def __init__(self, split: ImageSplit, device: torch.device) -> None:
        self.split = split
        self.device = device
        images = torch.as_tensor(split.images)
        labels = torch.as_tensor(split.labels)
        self.parts = {
            name: (images[index].to(device), labels[index].to(device))
            for name, index in (("train", split.train), ("val", split.val), ("test", split.test))
        }

    def run(
        self, config: ImageConfig, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        """Train ``config`` for ``epochs`` epochs with ``seed``; validate after every epoch.
        With ``start`` (a checkpoint of the same config and seed), restore its state and train
        only the epochs after it: the Result is the same as from scratch (bitwise on CPU).

        Each epoch draws a fresh permutation of the training images and takes its
        ``floor(n_train / batch_size)`` full mini-batches (the rest waits for a later
        shuffle). The learning rate is constant, so a training of ``e`` epochs is exactly the
        first ``e`` epochs of a longer one with the same seed. ``curve`` is the validation
        accuracy per epoch, ``val`` and ``test`` the metrics of ``metrics.NAMES`` after the
        last epoch, ``epoch_seconds`` the training + validation time of each epoch and
        ``seconds`` the whole call. Deterministic for a given (config, epochs, seed) on CPU
        with the same number of threads.
        Raises FloatingPointError when an epoch's training loss is not finite, ValueError for
        a batch size larger than the train part, or an unknown optimizer,
        activation or pooling.
        """
        check_optimizer(config.optimizer)
        if not 1 <= config.batch_size <= len(self.split.train):
            raise ValueError(f"batch_size must be 1..{len(self.split.train)} (the train part)")
        started = time.perf_counter()
        with seeded(self.device, seed) as generator:  # initial weights and dropout masks too
            images = self.parts["train"][0]
            model = build_cnn(config, tuple(images.shape[1:]), self.split.n_classes)
            model.to(self.device)
            optimizer = make_optimizer(config, model.parameters(), self.device)
            if start is not None:
                restore_training(start.state, model, optimizer, generator)
            losses, vals, epoch_seconds = train_epochs(
                epochs - done_epochs(start),
                lambda: self._epoch(model, optimizer, config.batch_size, generator),
                lambda: self._metrics(model, "val"),
            )
            test = self._metrics(model, "test")
            state = training_state(model, optimizer, generator)
        return training_result(OBJECTIVE, vals, test, losses, epoch_seconds, started, start, state)

    def _batches(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """Index tensors of the full mini-batches of one fresh permutation of the train part."""
        n = len(self.parts["train"][1])
        order = torch.randperm(n, generator=generator, device=self.device)
        return order[: n - n % batch_size].split(batch_size)

    def _epoch(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        generator: torch.Generator,
    ) -> float:
        """One pass over the shuffled training images; the mean batch loss."""
        model.train()
        images, labels = self.parts["train"]
        total, count = torch.zeros((), device=self.device), 0
        for index in self._batches(batch_size, generator):
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
            count += 1
        return float(total) / count

    def _metrics(self, model: nn.Module, part: str) -> dict[str, float]:
        """The metrics of ``model`` on the whole ``val`` or ``test`` part, in eval mode, scored
        in batches of ``EVAL_BATCH`` images (a part that fits in one is one forward pass)."""
        model.eval()
        images, labels = self.parts[part]
        with torch.inference_mode():
            scores = torch.cat([model(batch) for batch in images.split(EVAL_BATCH)])
            return classification_metrics(scores, labels)
