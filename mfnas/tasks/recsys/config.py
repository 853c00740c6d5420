"""A typed view of one recsys configuration (plain Python values, conditionals as None)."""

from __future__ import annotations

from dataclasses import dataclass

from mfnas.tasks.config_view import ConfigView


@dataclass(frozen=True)
class RecsysConfig(ConfigView):
    """The hyperparameters of ``spaces/recsys.yaml``.

    The pair-based models (MF, GMF, MLP, NeuMF, LightGCN) set ``embedding_dim``, ``init_std``,
    ``loss`` and ``batch_size``, and ``num_negatives`` unless the loss is the full softmax; the
    MLP fields are set only for ``mlp`` and ``neumf``, ``gcn_layers`` only for ``lightgcn``.
    The autoencoders set ``user_batch_size``; ``multdae`` and ``multvae`` the ``ae_*`` fields,
    ``multvae`` also the ``vae_*`` ones, ``dlae`` the ``dlae_*`` ones. (ConfigSpace leaves
    inactive parameters out of ``dict(config)``.)
    """

    model: str
    optimizer: str
    learning_rate: float
    weight_decay: float
    embedding_dim: int | None = None
    init_std: float | None = None
    loss: str | None = None
    num_negatives: int | None = None
    batch_size: int | None = None
    gcn_layers: int | None = None
    mlp_layers: int | None = None
    mlp_width: int | None = None
    mlp_activation: str | None = None
    mlp_dropout: float | None = None
    user_batch_size: int | None = None
    ae_layers: int | None = None
    ae_width: int | None = None
    ae_activation: str | None = None
    ae_dropout: float | None = None
    vae_latent: int | None = None
    vae_beta: float | None = None
    vae_anneal_steps: int | None = None
    dlae_dropout: float | None = None
    dlae_l2: float | None = None
