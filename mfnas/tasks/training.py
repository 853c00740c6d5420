"""What every trainer of the suite shares: the optimizers, a seeded training, the epoch loop."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from mfnas.tasks.base import Result

SGD_MOMENTUM = 0.9

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adagrad": torch.optim.Adagrad,
    "adamw": torch.optim.AdamW,
    "sgd": lambda params, **kw: torch.optim.SGD(params, momentum=SGD_MOMENTUM, nesterov=True, **kw),
}

T = TypeVar("T")


def check_optimizer(name: str) -> None:
    """Raise ValueError for an optimizer name not in ``OPTIMIZERS``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def make_optimizer(
    config: Any, parameters: Iterable[torch.nn.Parameter], device: torch.device
) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` (``OPTIMIZERS``) with its
    ``learning_rate`` and ``weight_decay``; fused kernels on CPU, the fastest there."""
    check_optimizer(config.optimizer)
    return OPTIMIZERS[config.optimizer](
        parameters,
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=True if device.type == "cpu" else None,
    )


@contextmanager
def seeded(device: torch.device, seed: int) -> Iterator[torch.Generator]:
    """Seed torch's global RNG with ``seed`` for the block (model initialisation, dropout) and
    restore it afterwards; yield a generator on ``device`` seeded alike (data order, negatives).
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield torch.Generator(device=device).manual_seed(seed)


def train_epochs(
    epochs: int, train_epoch: Callable[[], float], validate: Callable[[], T]
) -> tuple[list[float], list[T], list[float]]:
    """Run ``epochs`` rounds of ``train_epoch`` (returns the epoch's mean training loss) then
    ``validate``; return the losses, the validations and each round's seconds.

    Raises FloatingPointError as soon as a loss is not finite (``Task.evaluate`` has checked
    the epoch range).
    """
    losses: list[float] = []
    validations: list[T] = []
    seconds: list[float] = []
    for _ in range(epochs):
        start = time.perf_counter()
        losses.append(train_epoch())
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"training loss became {losses[-1]} in epoch {len(losses)}")
        validations.append(validate())
        seconds.append(time.perf_counter() - start)
    return losses, validations, seconds


def training_result(
    objective: str,
    vals: Sequence[dict[str, float]],
    test: dict[str, float],
    losses: Sequence[float],
    epoch_seconds: Sequence[float],
    started: float,
) -> Result:
    """The Result of a training whose per-epoch validation metrics are ``vals``: the curve of
    ``objective``, the last validation and the ``test`` metrics, the seconds since ``started``
    (a ``time.perf_counter`` reading) and ``extra["train_loss"]``."""
    return Result(
        curve=tuple(val[objective] for val in vals),
        val=vals[-1],
        test=test,
        seconds=time.perf_counter() - started,
        epochs=len(vals),
        epoch_seconds=tuple(epoch_seconds),
        extra={"train_loss": tuple(losses)},
    )
