"""What every trainer of the suite shares: the optimizers, a seeded training, the epoch loop,
and what pausing and continuing a training needs (its state, and its Result put together)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from mfnas.tasks.base import Checkpoint, Result, past_stop

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


def training_state(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator
) -> dict[str, Any]:
    """What continuing a training needs: the model's and the optimizer's state (their tensors
    where they are, not copied: ``TrainedTask.evaluate`` moves a kept state to the CPU, and one
    not kept never leaves the device), the data generator's state and the global torch RNG's
    (dropout draws from it; inside ``seeded`` it is the training's own)."""
    device = generator.device
    rng = torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state()
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "rng": rng,
    }


def restore_training(
    state: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
) -> None:
    """Put a ``training_state`` back into a freshly built model, optimizer and generator (call
    it inside ``seeded``, after building them: building draws from the global RNG)."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    device = generator.device
    if device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"], device)
    else:
        torch.set_rng_state(state["rng"])


def on_cpu(value: Any) -> Any:
    """``value`` (a state dict, nested) with every tensor copied to the CPU (kept if there)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: on_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(on_cpu(item) for item in value)
    return value


def train_epochs(
    epochs: int, train_epoch: Callable[[], float], validate: Callable[[], T]
) -> tuple[list[float], list[T], list[float]]:
    """Run ``epochs`` rounds of ``train_epoch`` (returns the epoch's mean training loss) then
    ``validate``; return the losses, the validations and each round's seconds. Stops early,
    after a whole round, once the stop time of ``stopping_at`` has come (a seconds budget).

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
        if past_stop():
            break
    return losses, validations, seconds


def training_result(
    objective: str,
    vals: Sequence[dict[str, float]],
    test: dict[str, float],
    losses: Sequence[float],
    epoch_seconds: Sequence[float],
    started: float,
    start: Checkpoint | None = None,
    state: dict[str, Any] | None = None,
) -> Result:
    """The Result of a training whose per-epoch validation metrics are ``vals`` (of the epochs
    after ``start``, when it continued one): the curve of ``objective`` (``start``'s first), the
    last validation and the ``test`` metrics, the seconds since ``started`` (a
    ``time.perf_counter`` reading), ``extra["train_loss"]`` and the training ``state``."""
    before = start.result if start is not None else Result((), {}, None, 0.0, 0)
    return Result(
        curve=(*before.curve, *(val[objective] for val in vals)),
        val=vals[-1],
        test=test,
        seconds=time.perf_counter() - started,
        epochs=before.epochs + len(vals),
        epoch_seconds=(*before.epoch_seconds, *epoch_seconds),
        extra={"train_loss": (*before.extra.get("train_loss", ()), *losses)},
        continued_from=before.epochs,
        state=state,
    )
