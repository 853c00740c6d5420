"""A typed view of one rating configuration (plain Python values, conditionals as None)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mfnas.tasks.recsys.config import RecsysConfig


@dataclass(frozen=True)
class RatingConfig:
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

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> RatingConfig:
        """Build from ``dict(configuration)``, turning numpy scalars into Python values.

        Raises ValueError for unknown keys and TypeError for missing required ones.
        """
        return RecsysConfig.from_mapping.__func__(cls, config)

    require = RecsysConfig.require
