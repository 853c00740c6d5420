"""Training a rating regressor with MSE on mini-batches of shuffled training ratings."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mfnas.tasks.base import Checkpoint, Result, done_epochs
from mfnas.tasks.rating.config import RatingConfig
from mfnas.tasks.rating.metrics import RatingEvaluator
from mfnas.tasks.rating.models import RatingModel, build_rating_model
from mfnas.tasks.training import (
    check_optimizer,
    make_optimizer,
    restore_training,
    seeded,
    train_epochs,
    training_result,
    training_state,
)

OBJECTIVE = "rmse"


@dataclass(frozen=True, eq=False)
class Fit:
    """A trained model, its mean training loss per epoch, its validation metrics after every
    epoch (empty without a validation evaluator) and the seconds of every epoch (training plus
    validation), of the epochs trained by this fit (after its start, when it continued one),
    and its training ``state`` after the last."""

    model: RatingModel
    losses: tuple[float, ...]
    val: tuple[dict[str, float], ...]
    epoch_seconds: tuple[float, ...]
    state: dict


class RatingTrainer:
    """Trains configurations (from scratch, or continuing a checkpoint) on one set of training
    ratings and one device.

    ``train`` holds (user, item, rating) rows with ids below ``n_users`` and ``n_items``; the
    models start from their mean rating.
    """

    def __init__(self, n_users: int, n_items: int, train: np.ndarray, device: torch.device) -> None:
        if len(train) == 0:
            raise ValueError("no training ratings")
        self.n_users, self.n_items, self.device = n_users, n_items, device
        self.users = torch.as_tensor(train[:, 0], dtype=torch.long, device=device)
        self.items = torch.as_tensor(train[:, 1], dtype=torch.long, device=device)
        self.ratings = torch.as_tensor(train[:, 2], dtype=torch.float32, device=device)
        self.mean = float(train[:, 2].mean())

    def fit(
        self,
        config: RatingConfig,
        epochs: int,
        seed: int,
        validation: RatingEvaluator | None = None,
        start: Checkpoint | None = None,
    ) -> Fit:
        """Train ``config`` for ``epochs`` epochs with ``seed``, validating after every epoch
        when ``validation`` is given; with ``start`` (a checkpoint of the same config and
        seed), restore its state and train only the epochs after it.

        Each epoch visits every training rating once, in a fresh random order, in mini-batches
        of ``batch_size``, minimising the mean squared error of the unclipped predictions with
        a constant learning rate. Epoch ``e`` of a longer training is exactly epoch ``e`` of a
        shorter one. Deterministic for a given (config, epochs, seed) on CPU with the same
        number of threads; the global torch RNG is left as it was.
        Raises FloatingPointError when an epoch's training loss is not finite, ValueError for
        an unknown model or optimizer.
        """
        check_optimizer(config.optimizer)
        with seeded(self.device, seed) as generator:
            model = build_rating_model(config, self.n_users, self.n_items, self.mean)
            model = model.to(self.device)
            optimizer = make_optimizer(config, model.parameters(), self.device)
            if start is not None:
                restore_training(start.state, model, optimizer, generator)
            losses, vals, epoch_seconds = train_epochs(
                epochs - done_epochs(start),
                lambda: self._epoch(model, optimizer, config.batch_size, generator),
                lambda: None if validation is None else predict_with(model, validation),
            )
            state = training_state(model, optimizer, generator)
        val = tuple(v for v in vals if v is not None)
        return Fit(model, tuple(losses), val, tuple(epoch_seconds), state)

    def run(
        self,
        config: RatingConfig,
        epochs: int,
        seed: int,
        validation: RatingEvaluator,
        testing: RatingEvaluator,
        start: Checkpoint | None = None,
    ) -> Result:
        """``fit`` with ``validation`` (continuing ``start``), then test: ``curve`` is the
        validation RMSE per epoch, ``val`` and ``test`` the RMSE and MAE after the last epoch,
        ``seconds`` the whole call, ``extra["train_loss"]`` the mean training MSE per epoch."""
        started = time.perf_counter()
        fit = self.fit(config, epochs, seed, validation, start)
        test = predict_with(fit.model, testing)
        return training_result(
            OBJECTIVE, fit.val, test, fit.losses, fit.epoch_seconds, started, start, fit.state
        )

    def _epoch(
        self,
        model: RatingModel,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        generator: torch.Generator,
    ) -> float:
        """One pass over the shuffled training ratings; the mean batch loss."""
        model.train()
        order = torch.randperm(len(self.users), generator=generator, device=self.device)
        batches = list(
            zip(
                self.users[order].split(batch_size),
                self.items[order].split(batch_size),
                self.ratings[order].split(batch_size),
                strict=True,
            )
        )
        total = torch.zeros((), device=self.device)
        for users, items, ratings in batches:
            loss = F.mse_loss(model(users, items), ratings)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        return float(total) / len(batches)


def predict_with(model: RatingModel, evaluator: RatingEvaluator) -> dict[str, float]:
    """``evaluator``'s metrics of ``model`` in evaluation mode, without gradients."""
    model.eval()
    with torch.inference_mode():
        return evaluator(model)
