"""Task registry: ``make_task(name, **options)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mfnas.tasks.base import Result, Task


def _toy(max_epochs: int | None = None, **_: Any) -> Task:
    from mfnas.tasks.toy import ToyTask

    return ToyTask(max_epochs=max_epochs)


def _recsys(
    max_epochs: int | None = None, device: str = "auto", data_dir: str | None = None, **_: Any
) -> Task:
    from mfnas.tasks.recsys import RecsysTask

    return RecsysTask(data_dir=data_dir, device=device, max_epochs=max_epochs)


TASKS: dict[str, Callable[..., Task]] = {"toy": _toy, "recsys": _recsys}


def make_task(name: str, **options: Any) -> Task:
    """Build the named task; options are ``max_epochs``, ``device``, ``data_dir``.

    Options a task has no use for are ignored. Raises KeyError for an unknown name.
    """
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name](**options)


__all__ = ["TASKS", "Result", "Task", "make_task"]
