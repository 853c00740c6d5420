"""A typed view of one recsys configuration (plain Python values, conditionals as None)."""

from __future__ import annotations

from dataclasses import dataclass

from mfnas.tasks.config_view import ConfigView


@dataclass(frozen=True)
class RecsysConfig(ConfigView):
    """The hyperparameters of ``spaces/recsys.yaml``.

    The MLP fields are set only for ``mlp`` and ``neumf``, ``gcn_layers`` only for ``lightgcn``
    (ConfigSpace leaves inactive parameters out of ``dict(config)``).
    """

    model: str
    embedding_dim: int
    init_std: float
    loss: str
    num_negatives: int
    optimizer: str
    learning_rate: float
    weight_decay: float
    batch_size: int
    gcn_layers: int | None = None
    mlp_layers: int | None = None
    mlp_width: int | None = None
    mlp_activation: str | None = None
    mlp_dropout: float | None = None
