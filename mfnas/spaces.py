"""Loading the declarative ConfigSpace files kept in ``spaces/`` (shipped in the wheel too)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import (
    Constant,
    FloatHyperparameter,
    Hyperparameter,
    IntegerHyperparameter,
)

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


class SpaceError(ValueError):
    """A space file that cannot be used; the one-line message names the file and the problem."""


def _names_used(node: Any) -> Iterator[str]:
    """Every hyperparameter name a serialized condition or forbidden clause refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("child", "parent", "name", "left", "right") and isinstance(value, str):
                yield value
            else:
                yield from _names_used(value)
    elif isinstance(node, list):
        for item in node:
            yield from _names_used(item)


def load_space_file(path: str | Path) -> ConfigurationSpace:
    """Load and validate a user's space file (ConfigSpace YAML, as in ``spaces/``).

    Raises SpaceError for an unreadable file, bad YAML, a file without hyperparameters, an
    unknown hyperparameter type, a condition or forbidden clause on a missing hyperparameter,
    or anything else ConfigSpace refuses.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SpaceError(f"{path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SpaceError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or not data.get("hyperparameters"):
        raise SpaceError(f"{path}: not a ConfigSpace space (no 'hyperparameters' list)")
    names = {hp.get("name") for hp in data["hyperparameters"] if isinstance(hp, dict)}
    for clause in ("conditions", "forbiddens"):
        for name in _names_used(data.get(clause) or []):
            if name not in names:
                raise SpaceError(f"{path}: {clause} refer to a missing hyperparameter {name!r}")
    try:
        return ConfigurationSpace.from_serialized_dict(data)
    except Exception as exc:  # ConfigSpace raises many kinds for a bad entry
        message = " ".join(str(exc).split())
        raise SpaceError(f"{path}: invalid space: {type(exc).__name__}: {message}") from None


def _kind(hp: Hyperparameter) -> str:
    """What a hyperparameter's values are: ``float``, ``int``, or ``choice`` (categorical,
    ordinal); a constant's kind is its value's (a bool or a string is a choice)."""
    if isinstance(hp, Constant):
        value = hp.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "choice"
        return "int" if isinstance(value, int) else "float"
    if isinstance(hp, FloatHyperparameter):
        return "float"
    return "int" if isinstance(hp, IntegerHyperparameter) else "choice"


def _choices(hp: Hyperparameter) -> tuple[Any, ...]:
    if isinstance(hp, Constant):
        return (hp.value,)
    return tuple(getattr(hp, "choices", None) or getattr(hp, "sequence", None) or ())


def check_subspace(space: ConfigurationSpace, own: ConfigurationSpace, source: str) -> None:
    """Raise SpaceError unless every hyperparameter of ``space`` is one that ``own`` (a task's
    space) has, with values of the kind it takes: for a choice, among its choices (a value a
    task cannot build would be trained as something else, or crash every trial); an integer
    where it takes integers (a float may widen to one). Numerical ranges may differ."""
    for name, hp in space.items():
        if name not in own:
            known = ", ".join(own)
            raise SpaceError(f"{source}: {name!r} is not a hyperparameter of the task ({known})")
        kind, wanted = _kind(hp), _kind(own[name])
        if wanted == "choice" and isinstance(hp, Constant):
            kind = "choice"  # a constant fixing one of the choices, whatever its type
        if kind != wanted and not (kind == "int" and wanted == "float"):
            raise SpaceError(f"{source}: {name!r} takes {wanted} values in the task, not {kind}")
        if wanted == "choice":
            allowed = _choices(own[name])
            unknown = [  # type-strict: 64.0 is not the choice 64, True not the choice 1
                v for v in _choices(hp) if not any(v == a and type(v) is type(a) for a in allowed)
            ]
            if unknown:
                raise SpaceError(
                    f"{source}: {name!r} value {unknown[0]!r} is not one the task can build "
                    f"({', '.join(map(str, allowed))})"
                )


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


def config_vector(space: ConfigurationSpace, values: dict[str, Any]) -> np.ndarray:
    """ConfigSpace's normalised vector of a configuration given by its active ``values``:
    numerical values in [0, 1], categorical ones as their index, NaN for inactive ones (what
    XGBoost reads as missing). Raises ValueError for values that are not a configuration."""
    return np.asarray(Configuration(space, values=values).get_array(), dtype=float)
