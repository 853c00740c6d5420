"""Replay modes: tasks answered from recorded learning curves, on a simulated clock.

``--mode tabular`` replays the table that ``python -m mfnas.collect`` recorded
(``benchmarks/<task>/``); ``--mode surrogate`` asks the XGBoost surrogate fitted on it by
``python -m mfnas.fit_surrogate`` (``surrogates/<task>/``). Both run under the same strategies,
runner, store and leaderboard as live training, on simulated workers; ``mfnas.replay.modes``
registers them beside ``live`` (import it from there: it loads the strategies, which a Dask
worker unpickling a replay task must not).
"""

from __future__ import annotations

from mfnas.replay.base import ReplayTask
from mfnas.replay.table import TableError

__all__ = ["ReplayTask", "TableError"]
