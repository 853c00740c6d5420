"""Task registry: ``make_task(name, **options)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ConfigSpace import ConfigurationSpace

from mfnas.tasks.base import Result, Task
from mfnas.tasks.override import SpaceOverride


def _toy(max_epochs: int | None = None, **_: Any) -> Task:
    from mfnas.tasks.toy import ToyTask

    return ToyTask(max_epochs=max_epochs)


def _toy_faulty(max_epochs: int | None = None, **_: Any) -> Task:
    from mfnas.tasks.toy import FaultyToyTask

    return FaultyToyTask(max_epochs=max_epochs)


def _recsys(
    max_epochs: int | None = None, device: str = "auto", data_dir: str | None = None, **_: Any
) -> Task:
    from mfnas.tasks.recsys import RecsysTask

    return RecsysTask(data_dir=data_dir, device=device, max_epochs=max_epochs)


def _image(max_epochs: int | None = None, device: str = "auto", **_: Any) -> Task:
    from mfnas.tasks.image import ImageTask

    return ImageTask(device=device, max_epochs=max_epochs)  # the data ship with scikit-learn


def _fashion(
    max_epochs: int | None = None, device: str = "auto", data_dir: str | None = None, **_: Any
) -> Task:
    from mfnas.tasks.fashion import FashionTask

    return FashionTask(data_dir=data_dir, device=device, max_epochs=max_epochs)


def _recsys_rating(
    max_epochs: int | None = None, device: str = "auto", data_dir: str | None = None, **_: Any
) -> Task:
    from mfnas.tasks.rating import RatingTask

    return RatingTask(data_dir=data_dir, device=device, max_epochs=max_epochs)


def _text(
    max_epochs: int | None = None, device: str = "auto", data_dir: str | None = None, **_: Any
) -> Task:
    from mfnas.tasks.text import TextTask

    return TextTask(data_dir=data_dir, device=device, max_epochs=max_epochs)


TASKS: dict[str, Callable[..., Task]] = {
    "toy": _toy,
    "toy-faulty": _toy_faulty,
    "recsys": _recsys,
    "recsys-rating": _recsys_rating,
    "image": _image,
    "fashion": _fashion,
    "text": _text,
}


def make_task(name: str, space: ConfigurationSpace | None = None, **options: Any) -> Task:
    """Build the named task; options are ``max_epochs``, ``device``, ``data_dir``.

    With ``space``, the task searches that space instead of its own (``SpaceOverride``).
    Options a task has no use for are ignored. Raises KeyError for an unknown name.
    """
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    task = TASKS[name](**options)
    return task if space is None else SpaceOverride(task, space)


__all__ = ["TASKS", "Result", "SpaceOverride", "Task", "make_task"]
