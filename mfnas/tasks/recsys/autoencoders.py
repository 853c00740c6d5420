"""Autoencoders over a user's item vector: Mult-DAE, Mult-VAE and a linear autoencoder trained
with dropout (DLAE).

Each model reads a user's training interactions as a 0/1 row over all items (kept on the
model's device, not in its state: it is the data) and scores every item from it; it trains
on batches of users (an epoch is a pass over the users, see ``Trainer``), with ``loss``
giving the batch's training objective.

- ``MultDAE`` (Liang et al., WWW 2018): the row L2-normalised, input dropout, ``layers``
  ``width``-unit encoder layers with ``activation``, their mirror image as the decoder, item
  logits; loss: the multinomial negative log-likelihood of the row under the softmax of the
  logits.
- ``MultVAE`` (same paper): the same encoder to a ``latent``-dimensional Gaussian (mean and
  log-variance), a sample of it (training) or its mean (scoring) through the decoder; loss:
  multinomial NLL + beta x KL to N(0, I), beta rising linearly from 0 to ``beta`` over
  ``anneal_steps`` updates (the update count is kept in the model's state, so a continued
  training anneals on where it stopped).
- ``DLAE`` (Steck, NeurIPS 2020): scores ``x B`` for an item-item matrix ``B`` (starting at
  0); loss: the squared error of reconstructing the row from its dropped-out copy (dropout
  ``dropout``, kept entries scaled by ``1 / (1 - dropout)``) plus ``l2 * ||B||^2``, both per
  user, trained by gradient descent rather than in closed form so that epochs are its
  fidelity like every other model's.

Random draws (dropout, the VAE's noise) come from torch's global RNG, which ``seeded`` makes
the training's own and a checkpoint keeps.
"""

from __future__ import annotations

from abc import abstractmethod
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.recsys.models import ACTIVATIONS, Recommender


class UserAutoencoder(Recommender):
    """Base of the autoencoders: the users' training rows, scoring by reconstruction."""

    def __init__(self, n_users: int, n_items: int, train: np.ndarray) -> None:
        super().__init__()
        rows = torch.zeros(n_users, n_items)
        pairs = torch.as_tensor(train[:, :2], dtype=torch.long)
        rows[pairs[:, 0], pairs[:, 1]] = 1.0
        self.register_buffer("rows", rows, persistent=False)  # the data, not the model's state

    @abstractmethod
    def reconstruct(self, rows: torch.Tensor) -> torch.Tensor:
        """Item logits for input ``rows`` (scoring: no dropout, no sampling)."""

    @abstractmethod
    def loss(self, users: torch.Tensor) -> torch.Tensor:
        """The training objective on the rows of ``users`` (a batch), with its noise."""

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(self.rows[users])

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        scores = self.score_all(users)
        return (
            scores.gather(1, items) if items.dim() == 2 else scores.gather(1, items[:, None])[:, 0]
        )


def _mlp(sizes: list[int], activation: str, last_activation: bool) -> nn.Sequential:
    """Linear layers through ``sizes`` with ``activation`` between them (and after the last
    one when ``last_activation``)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or last_activation:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _corrupted(rows: torch.Tensor, dropout: float, training: bool) -> torch.Tensor:
    """The encoders' input: the rows L2-normalised, then dropped out while training."""
    return F.dropout(F.normalize(rows, dim=1), dropout, training)


def _multinomial_nll(logits: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The rows' negative log-likelihood under softmax(logits), averaged over the batch."""
    return -(F.log_softmax(logits, dim=1) * rows).sum(dim=1).mean()


class MultDAE(UserAutoencoder):
    """Mult-DAE; see the module docstring."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        train: np.ndarray,
        layers: int,
        width: int,
        activation: str,
        dropout: float,
    ) -> None:
        super().__init__(n_users, n_items, train)
        self.dropout = dropout
        self.encoder = _mlp([n_items] + [width] * layers, activation, last_activation=True)
        self.decoder = _mlp([width] * layers + [n_items], activation, last_activation=False)

    def reconstruct(self, rows: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(_corrupted(rows, self.dropout, self.training)))

    def loss(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.rows[users]
        return _multinomial_nll(self.reconstruct(rows), rows)


class MultVAE(UserAutoencoder):
    """Mult-VAE; see the module docstring."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        train: np.ndarray,
        layers: int,
        width: int,
        activation: str,
        dropout: float,
        latent: int,
        beta: float,
        anneal_steps: int,
    ) -> None:
        super().__init__(n_users, n_items, train)
        self.dropout, self.beta, self.anneal_steps = dropout, beta, anneal_steps
        self.encoder = _mlp([n_items] + [width] * layers, activation, last_activation=True)
        self.to_latent = nn.Linear(width, 2 * latent)
        self.decoder = _mlp([latent] + [width] * layers + [n_items], activation, False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))  # in the state

    def _gaussian(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = _corrupted(rows, self.dropout, self.training)
        mean, log_var = self.to_latent(self.encoder(hidden)).chunk(2, dim=1)
        return mean, log_var

    def reconstruct(self, rows: torch.Tensor) -> torch.Tensor:
        return self.decoder(self._gaussian(rows)[0])

    def loss(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.rows[users]
        mean, log_var = self._gaussian(rows)
        sample = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()
        weight = self.beta * min(1.0, int(self.updates) / self.anneal_steps)
        self.updates += 1
        return _multinomial_nll(self.decoder(sample), rows) + weight * kl


class DLAE(UserAutoencoder):
    """A linear autoencoder trained with dropout; see the module docstring."""

    def __init__(
        self, n_users: int, n_items: int, train: np.ndarray, dropout: float, l2: float
    ) -> None:
        super().__init__(n_users, n_items, train)
        self.dropout, self.l2 = dropout, l2
        self.weights = nn.Parameter(torch.zeros(n_items, n_items))

    def reconstruct(self, rows: torch.Tensor) -> torch.Tensor:
        return rows @ self.weights

    def loss(self, users: torch.Tensor) -> torch.Tensor:
        rows = self.rows[users]
        noisy = F.dropout(rows, self.dropout, training=True)
        error = (rows - noisy @ self.weights).pow(2).sum(dim=1).mean()
        return error + self.l2 * self.weights.pow(2).sum() / len(self.rows)
