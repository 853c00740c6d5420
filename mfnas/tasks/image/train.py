"""Training a CNN on an image split with whole-split tensors on the device."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.base import Result
from mfnas.tasks.image.data import ImageSplit
from mfnas.tasks.image.metrics import classification_metrics
from mfnas.tasks.image.model import ImageConfig, build_cnn

OBJECTIVE = "accuracy"
SGD_MOMENTUM = 0.9

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": lambda params, **kw: torch.optim.SGD(params, momentum=SGD_MOMENTUM, nesterov=True, **kw),
}


class ImageTrainer:
    """Trains configurations from scratch on one split and device.

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

    def run(self, config: ImageConfig, epochs: int, seed: int) -> Result:
        """Train ``config`` for ``epochs`` epochs with ``seed``; validate after every epoch.

        Each epoch draws a fresh permutation of the training images and takes its
        ``floor(n_train / batch_size)`` full mini-batches (the rest waits for a later
        shuffle). The learning rate is constant, so a training of ``e`` epochs is exactly the
        first ``e`` epochs of a longer one with the same seed. ``curve`` is the validation
        accuracy per epoch, ``val`` and ``test`` the metrics of ``metrics.NAMES`` after the
        last epoch, ``epoch_seconds`` the training + validation time of each epoch and
        ``seconds`` the whole call. Deterministic for a given (config, epochs, seed) on CPU
        with the same number of threads.
        Raises FloatingPointError when an epoch's training loss is not finite, ValueError for
        ``epochs < 1``, a batch size larger than the train part, or an unknown optimizer,
        activation or pooling.
        """
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if config.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {config.optimizer!r}")
        if not 1 <= config.batch_size <= len(self.split.train):
            raise ValueError(f"batch_size must be 1..{len(self.split.train)} (the train part)")
        started = time.perf_counter()
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)  # initial weights and dropout masks
            images = self.parts["train"][0]
            model = build_cnn(config, tuple(images.shape[1:]), self.split.n_classes)
            model.to(self.device)
            optimizer = OPTIMIZERS[config.optimizer](
                model.parameters(),
                lr=config.learning_rate,
                weight_decay=config.weight_decay,
                fused=True if self.device.type == "cpu" else None,  # fastest kernels on CPU
            )
            generator = torch.Generator(device=self.device).manual_seed(seed)
            curve, losses, epoch_seconds = [], [], []
            for _ in range(epochs):
                epoch_start = time.perf_counter()
                losses.append(self._epoch(model, optimizer, config.batch_size, generator))
                if not math.isfinite(losses[-1]):
                    raise FloatingPointError(
                        f"training loss became {losses[-1]} in epoch {len(losses)}"
                    )
                val = self._metrics(model, "val")
                curve.append(val[OBJECTIVE])
                epoch_seconds.append(time.perf_counter() - epoch_start)
            test = self._metrics(model, "test")
        return Result(
            curve=tuple(curve),
            val=val,
            test=test,
            seconds=time.perf_counter() - started,
            epochs=epochs,
            epoch_seconds=tuple(epoch_seconds),
            extra={"train_loss": tuple(losses)},
        )

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
        """The metrics of ``model`` on the whole ``val`` or ``test`` part, in eval mode."""
        model.eval()
        images, labels = self.parts[part]
        with torch.inference_mode():
            return classification_metrics(model(images), labels)
