"""A typed view of one recsys configuration (plain Python values, conditionals as None)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RecsysConfig:
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

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> RecsysConfig:
        """Build from ``dict(configuration)``, turning numpy scalars into Python values.

        Raises ValueError for unknown keys and TypeError for missing required ones.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown recsys hyperparameters: {sorted(unknown)}")
        return cls(**{k: v.item() if isinstance(v, np.generic) else v for k, v in config.items()})

    def require(self, name: str) -> Any:
        """The value of a conditional field; ValueError when it is unset for this model."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"model {self.model!r} needs hyperparameter {name!r}")
        return value
