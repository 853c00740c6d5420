"""Interrupts that always end a run: SIGINT (Ctrl-C) and SIGTERM become KeyboardInterrupt.

Inside ``stop_on_signals()`` either signal raises KeyboardInterrupt in the main thread and is
remembered. Libraries sometimes swallow an exception raised inside them (distributed runs
callbacks from the garbage collector, where an exception is only printed), so whoever waits
calls ``check()`` between short waits: it raises KeyboardInterrupt again if a signal came and
was not yet acted on. ``worker_processes()`` keeps the processes started inside it (Dask's
nannies and workers) deaf to SIGINT, which a terminal sends to its whole process group: only
the run decides when they stop, and they print no tracebacks of their own.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pending: list[int] = []  # signals received inside stop_on_signals, not yet acted on


def _raise(signum: int, frame: FrameType | None) -> None:
    _pending.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt for the block (main thread only); the
    handlers before it are restored after."""
    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _pending.clear()


def check() -> None:
    """Raise KeyboardInterrupt when a signal arrived and its own KeyboardInterrupt was lost."""
    if _pending:
        _pending.clear()
        raise KeyboardInterrupt("interrupted")


@contextmanager
def worker_processes() -> Iterator[None]:
    """Processes started in the block ignore SIGINT (an ignored signal stays ignored across
    fork and exec, and Python keeps it so); this process's handler is restored after."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
