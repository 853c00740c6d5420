"""Rating regressors: a global mean, user and item biases, and an interaction model.

The interaction is one of the recsys models (``mfnas.tasks.recsys.models``) used as a
regressor: MF (dot product), GMF (elementwise product -> linear), MLP (tower over [u; i] ->
linear) or NeuMF (GMF and MLP features concatenated -> linear). Embeddings start from
N(0, ``init_std``), biases from 0, linear layers keep PyTorch's default initialisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.rating.config import RatingConfig
from mfnas.tasks.recsys.models import Recommender, build_interaction

MODELS = ("mf", "gmf", "mlp", "neumf")


class RatingModel(nn.Module):
    """``mean + b_u + b_i + interaction(u, i)``: a predicted rating per (user, item) pair."""

    def __init__(self, interaction: Recommender, n_users: int, n_items: int, mean: float) -> None:
        super().__init__()
        self.interaction = interaction
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        self.register_buffer("mean", torch.tensor(float(mean)))

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings of ``items`` (B,) by ``users`` (B,): shape (B,), not clipped."""
        user_bias = F.embedding(users, self.user_bias.weight).squeeze(1)
        item_bias = F.embedding(items, self.item_bias.weight).squeeze(1)
        return self.mean + user_bias + item_bias + self.interaction.score_pairs(users, items)


def build_rating_model(
    config: RatingConfig, n_users: int, n_items: int, mean: float
) -> RatingModel:
    """The model named by ``config.model`` around the global ``mean`` rating.

    Raises ValueError for an unknown model or a missing conditional hyperparameter.
    """
    if config.model not in MODELS:
        raise ValueError(f"unknown rating model {config.model!r}; choose from {MODELS}")
    interaction = build_interaction(config, n_users, n_items)
    return RatingModel(interaction, n_users, n_items, mean)
