"""``ConfigView``: a frozen dataclass viewing one configuration as typed plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np

V = TypeVar("V", bound="ConfigView")


class ConfigView:
    """Base of the task config dataclasses (``RecsysConfig``, ``RatingConfig``, ...): their
    fields are the space's hyperparameters, conditional ones defaulting to None (ConfigSpace
    leaves inactive parameters out of ``dict(config)``)."""

    model: str

    @classmethod
    def from_mapping(cls: type[V], config: Mapping[str, Any]) -> V:
        """Build from ``dict(configuration)``, turning numpy scalars into Python values.

        Raises ValueError for unknown keys and TypeError for missing required ones.
        """
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown {cls.__name__} hyperparameters: {sorted(unknown)}")
        return cls(**{k: v.item() if isinstance(v, np.generic) else v for k, v in config.items()})

    def require(self, name: str) -> Any:
        """The value of a conditional field; ValueError when it is unset for this model."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"model {self.model!r} needs hyperparameter {name!r}")
        return value
