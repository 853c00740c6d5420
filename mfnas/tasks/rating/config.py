"""A typed view of one rating configuration (plain Python values, conditionals as None)."""

from __future__ import annotations

from dataclasses import dataclass

from mfnas.tasks.config_view import ConfigView


@dataclass(frozen=True)
class RatingConfig(ConfigView):
    """The hyperparameters of ``spaces/recsys-rating.yaml``.

    The MLP fields are set only for ``mlp`` and ``neumf`` (ConfigSpace leaves inactive
    parameters out of ``dict(config)``).
    """

    model: str
    embedding_dim: int
    init_std: float
    optimizer: str
    learning_rate: float
    weight_decay: float
    batch_size: int
    mlp_layers: int | None = None
    mlp_width: int | None = None
    mlp_activation: str | None = None
    mlp_dropout: float | None = None
