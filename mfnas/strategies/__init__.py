"""Strategy registry: ``make_strategy(name, problem, seed)``.

``STRATEGIES`` maps each registered name to its class, imported on first use: a run imports
only the libraries of the strategies it runs (SMAC alone takes over a second to import), and
a peer whose library is an optional extra (``pip install "mfnas[peers]"``) is listed even
where that extra is not installed. Looking such a peer up then raises ``MissingExtraError``,
one line naming the extra; ``installed(name)`` says beforehand, without importing it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mfnas.strategies.base import Problem, Strategy, TrialSpec


@dataclass(frozen=True)
class Registered:
    """Where a strategy lives (``module``.``cls``) and, for a peer from an optional extra,
    the extra (``extra``) and the top-level modules it needs from it (``needs``)."""

    module: str
    cls: str
    extra: str | None = None
    needs: tuple[str, ...] = ()


class MissingExtraError(ImportError):
    """A registered strategy whose library (an optional extra) is not installed."""


_PEERS = "peers"
_REGISTERED: dict[str, Registered] = {
    "grid": Registered("mfnas.strategies.grid", "GridSearch"),
    "random": Registered("mfnas.strategies.random_search", "RandomSearch"),
    "one-epoch": Registered("mfnas.strategies.one_epoch", "OneEpoch"),
    "evolution": Registered("mfnas.strategies.evolution", "RegularizedEvolution"),
    "smac-bo": Registered("mfnas.strategies.smac_bo", "SmacBO"),
    "smac-gp": Registered("mfnas.strategies.smac_gp", "SmacGP"),
    "hyperband": Registered("mfnas.strategies.hyperband", "Hyperband"),
    "smac-hb": Registered("mfnas.strategies.smac_hb", "SmacHyperband"),
    "hierarchical": Registered("mfnas.strategies.hierarchical", "Hierarchical"),
    "optuna-tpe": Registered("mfnas.strategies.optuna_tpe", "OptunaTPE"),
    "optuna-gp": Registered("mfnas.strategies.optuna_gp", "OptunaGP"),
    "optuna-hb": Registered("mfnas.strategies.optuna_hb", "OptunaHyperband"),
    "dehb": Registered("mfnas.strategies.dehb_adapter", "DEHBStrategy", _PEERS, ("dehb",)),
    "asha": Registered("mfnas.strategies.syne_tune_adapter", "ASHA", _PEERS, ("syne_tune",)),
    "bohb-st": Registered("mfnas.strategies.syne_tune_adapter", "BOHB", _PEERS, ("syne_tune",)),
    "asha-bore": Registered(
        "mfnas.strategies.syne_tune_adapter", "ASHABORE", _PEERS, ("syne_tune",)
    ),
    "surrogate-hb": Registered("mfnas.strategies.surrogate_hb", "SurrogateHyperband"),
    "surrogate-hb-nopred": Registered(
        "mfnas.strategies.surrogate_hb", "SurrogateHyperbandNoPredictor"
    ),
    "surrogate-hb-warm": Registered("mfnas.strategies.surrogate_hb", "SurrogateHyperbandWarm"),
}


def installed(name: str) -> bool:
    """True when the libraries of registered strategy ``name`` can be imported (always, for
    those that need no optional extra). Imports nothing."""
    return all(importlib.util.find_spec(module) is not None for module in _REGISTERED[name].needs)


def missing_extra_message(name: str) -> str:
    """The one line that says which extra strategy ``name`` needs."""
    entry = _REGISTERED[name]
    return (
        f"strategy {name!r} needs {', '.join(entry.needs)}, from an optional extra: "
        f'pip install "mfnas[{entry.extra}]"'
    )


class StrategyRegistry(Mapping[str, type[Strategy]]):
    """Registered name -> strategy class, each imported when first looked up.

    Iterating lists every registered name, installed or not; looking up a peer that is not
    installed raises ``MissingExtraError`` (use ``installed`` to ask first)."""

    def __getitem__(self, name: str) -> type[Strategy]:
        entry = _REGISTERED[name]
        if not installed(name):
            raise MissingExtraError(missing_extra_message(name))
        return getattr(importlib.import_module(entry.module), entry.cls)

    def __contains__(self, name: object) -> bool:
        return name in _REGISTERED

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTERED)

    def __len__(self) -> int:
        return len(_REGISTERED)

    def installed_names(self) -> list[str]:
        """The registered names whose libraries are installed, in registry order."""
        return [name for name in _REGISTERED if installed(name)]

    def extra_of(self, name: str) -> str | None:
        """The optional extra strategy ``name`` comes from (None: a core strategy)."""
        return _REGISTERED[name].extra


STRATEGIES = StrategyRegistry()


def make_strategy(name: str, problem: Problem, seed: int) -> Strategy:
    """Build the named strategy for ``problem`` with its RNG seeded by ``seed``."""
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    return STRATEGIES[name](problem, seed)


__all__ = [
    "STRATEGIES",
    "MissingExtraError",
    "Problem",
    "Strategy",
    "TrialSpec",
    "installed",
    "make_strategy",
    "missing_extra_message",
]
