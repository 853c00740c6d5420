"""Loading the declarative ConfigSpace files kept in ``spaces/`` (shipped in the wheel too)."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

_REPO_SPACES = Path(__file__).resolve().parent.parent / "spaces"


def space_path(name: str) -> Path:
    """The file of the named space: inside the installed package, else the source checkout."""
    packaged = resources.files("mfnas") / "spaces" / f"{name}.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    path = _REPO_SPACES / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no search space named {name!r} (looked for {path})")
    return path


def load_space(name_or_path: str | Path) -> ConfigurationSpace:
    """Load a space by task name (``recsys``) or from a YAML file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = space_path(str(name_or_path))
    return ConfigurationSpace.from_yaml(path)


def space_hash(space: ConfigurationSpace) -> str:
    """A short content hash of a space (stable across runs), for cards and run metadata."""
    return hashlib.sha256(str(space).encode()).hexdigest()[:12]


def plain_config(config: Configuration) -> dict[str, Any]:
    """The active values of a configuration as plain Python types (numpy scalars converted)."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in dict(config).items()}


def config_key(config: Configuration) -> str:
    """A stable text key of a configuration's active values (sorted by name)."""
    values = plain_config(config)
    return ",".join(f"{k}={values[k]!r}" for k in sorted(values))


def config_seed(config: Configuration, seed: int) -> int:
    """The training seed of ``config`` in a run seeded ``seed``: the same config, the same seed.

    So a configuration promoted from 3 to 9 epochs repeats its first 3 epochs exactly.
    """
    digest = hashlib.sha256(f"{config_key(config)}|{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF
