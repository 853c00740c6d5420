"""Training a recommender on a split with sampled negatives, evaluating by full ranking."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mfnas.tasks.base import Checkpoint, Result, done_epochs
from mfnas.tasks.recsys.autoencoders import UserAutoencoder
from mfnas.tasks.recsys.config import RecsysConfig
from mfnas.tasks.recsys.metrics import RankingEvaluator
from mfnas.tasks.recsys.models import AUTOENCODERS, Recommender, build_model
from mfnas.tasks.recsys.split import Split
from mfnas.tasks.training import (
    check_optimizer,
    make_optimizer,
    restore_training,
    seeded,
    train_epochs,
    training_result,
    training_state,
)

OBJECTIVE = "ndcg@10"


def _bpr(scores: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(s_pos - s_neg), averaged over every negative of every row."""
    return -F.logsigmoid(scores[:, :1] - scores[:, 1:]).mean()


def _bce(scores: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits: label 1 for the positive, 0 for each negative."""
    labels = torch.zeros_like(scores)
    labels[:, 0] = 1.0
    return F.binary_cross_entropy_with_logits(scores, labels)


def _sampled_softmax(scores: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the row's [positive, negatives] logits with the positive as class 0."""
    return F.cross_entropy(scores, torch.zeros(len(scores), dtype=torch.long, device=scores.device))


LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "bpr": _bpr,
    "bce": _bce,
    "softmax": _sampled_softmax,
}
FULL_SOFTMAX = "full-softmax"  # cross-entropy over every item's logit: no negatives sampled


def _full_softmax(model: Recommender, users: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each (user, positive) pair over every item's logit, scoring each
    distinct user of the batch once."""
    distinct, row = torch.unique(users, return_inverse=True)
    return F.cross_entropy(model.score_all(distinct)[row], positives)


class Trainer:
    """Trains configurations (from scratch, or continuing a checkpoint) on one split and device.

    Built once per (split, device) and reused: it keeps the training pairs and the validation
    (mask train, rank validation items) and test (mask train and validation, rank test items)
    evaluators on the device.
    """

    def __init__(self, split: Split, device: torch.device) -> None:
        self.split = split
        self.device = device
        self.users = torch.as_tensor(split.train[:, 0], dtype=torch.long, device=device)
        self.items = torch.as_tensor(split.train[:, 1], dtype=torch.long, device=device)
        sizes = (split.n_users, split.n_items)
        self.validation = RankingEvaluator(*sizes, split.train, split.val, device)
        seen = np.concatenate([split.train, split.val])
        self.testing = RankingEvaluator(*sizes, seen, split.test, device)

    def run(
        self, config: RecsysConfig, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        """Train ``config`` for ``epochs`` epochs with ``seed``; validate after every epoch.
        With ``start`` (a checkpoint of the same config and seed), restore its state and train
        only the epochs after it: the Result is the same as from scratch (bitwise on CPU).

        A pair-based model's epoch pairs every training interaction (in a fresh random order,
        in mini-batches of ``batch_size``) with ``num_negatives`` items drawn uniformly from
        all items (an occasional negative that is in fact a training positive is kept, as is
        standard), or, with the full softmax, scores it against every item. An autoencoder's
        epoch is a pass over the users in a fresh random order, in batches of
        ``user_batch_size``, each with the model's own loss.
        ``curve`` is the validation NDCG@10 per epoch, ``test`` the test metrics after the
        last epoch, ``epoch_seconds`` the training + validation time of each epoch and
        ``seconds`` the whole call. Deterministic for a given (config, epochs, seed) on CPU with
        the same number of threads.
        Raises FloatingPointError when an epoch's training loss is not finite, ValueError for
        an unknown model, loss or optimizer.
        """
        if config.model not in AUTOENCODERS and config.loss not in (*LOSSES, FULL_SOFTMAX):
            raise ValueError(f"unknown loss {config.loss!r}")
        check_optimizer(config.optimizer)
        started = time.perf_counter()
        with seeded(self.device, seed) as generator:
            model = build_model(
                config, self.split.n_users, self.split.n_items, self.split.train
            ).to(self.device)
            optimizer = make_optimizer(config, model.parameters(), self.device)
            if start is not None:
                restore_training(start.state, model, optimizer, generator)

            def validate() -> dict[str, float]:
                model.eval()
                with torch.inference_mode():
                    return self.validation(model.score_all)

            losses, vals, epoch_seconds = train_epochs(
                epochs - done_epochs(start),
                lambda: self._epoch(model, optimizer, config, generator),
                validate,
            )
            with torch.inference_mode():
                test = self.testing(model.score_all)
            state = training_state(model, optimizer, generator)
        return training_result(OBJECTIVE, vals, test, losses, epoch_seconds, started, start, state)

    def _epoch(
        self,
        model: Recommender,
        optimizer: torch.optim.Optimizer,
        config: RecsysConfig,
        generator: torch.Generator,
    ) -> float:
        """One pass over the shuffled training pairs (with fresh negatives) or, for an
        autoencoder, over the shuffled users; the mean batch loss."""
        model.train()
        if isinstance(model, UserAutoencoder):
            order = torch.randperm(self.split.n_users, generator=generator, device=self.device)
            steps = [
                lambda users=users: model.loss(users)
                for users in order.split(config.require("user_batch_size"))
            ]
        else:
            steps = self._pair_steps(model, config, generator)
        total = torch.zeros((), device=self.device)
        for step in steps:
            loss = step()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        return float(total) / len(steps)

    def _pair_steps(
        self, model: Recommender, config: RecsysConfig, generator: torch.Generator
    ) -> list[Callable[[], torch.Tensor]]:
        """The loss of each mini-batch of the shuffled training pairs, as a thunk.

        With the full softmax the pairs are shuffled user by user (the users in a fresh random
        order, each user's pairs in a fresh random order within), so a batch holds the pairs
        of a few users and scores each of those users against every item once: the loss of a
        batch is the per-pair cross-entropy over all items (exactly so in eval mode; in
        training, dropout draws one mask per user and batch), at a cost that grows with the
        batch's users rather than its pairs (a tower model scored per pair took 74 s per
        epoch here; see README, "The recsys task").
        """
        order = torch.randperm(len(self.users), generator=generator, device=self.device)
        size = config.require("batch_size")
        if config.loss == FULL_SOFTMAX:
            user_rank = torch.randperm(self.split.n_users, generator=generator, device=self.device)
            order = order[torch.argsort(user_rank[self.users[order]], stable=True)]
            users, positives = self.users[order].split(size), self.items[order].split(size)
            return [
                lambda u=u, p=p: _full_softmax(model, u, p)
                for u, p in zip(users, positives, strict=True)
            ]
        users = self.users[order].split(size)
        negatives = torch.randint(
            self.split.n_items,
            (len(order), config.require("num_negatives")),
            generator=generator,
            device=self.device,
        )
        items = torch.cat([self.items[order, None], negatives], dim=1).split(size)
        loss = LOSSES[config.loss]
        return [
            lambda u=u, i=i: loss(model.score_pairs(u, i))
            for u, i in zip(users, items, strict=True)
        ]
