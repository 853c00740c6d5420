"""Which way an objective is better: ``Direction.MAXIMIZE`` (NDCG, accuracy) or ``MINIMIZE``
(RMSE). Every comparison of objective values goes through it, never a hand-written sign flip."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import TypeVar

T = TypeVar("T")


class Direction(str, Enum):
    """The direction of an objective; its value is what run metadata and cards store."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def of(cls, maximize: bool) -> Direction:
        """The direction of a ``maximize`` flag (as stores and recorded benchmarks keep it)."""
        return cls.MAXIMIZE if maximize else cls.MINIMIZE

    @property
    def maximize(self) -> bool:
        return self is Direction.MAXIMIZE

    @property
    def sign(self) -> float:
        """+1 or -1 so that ``sign * value`` is higher when better."""
        return 1.0 if self.maximize else -1.0

    @property
    def word(self) -> str:
        """``higher`` or ``lower``: which values are better, for tables and cards."""
        return "higher" if self.maximize else "lower"

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self.maximize else a < b

    def best(self, items: Iterable[T], key: Callable[[T], float]) -> T:
        """The item with the best ``key`` (the first one on ties); ValueError when empty."""
        return max(items, key=lambda item: self.sign * key(item))

    def ranked(self, items: Iterable[T], key: Callable[[T], float]) -> list[T]:
        """The items best first (stable: ties keep their order)."""
        return sorted(items, key=lambda item: -self.sign * key(item))
