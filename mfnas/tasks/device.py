"""Choosing the torch device from ``--device auto|cpu|cuda`` (torch is imported only when a
device is resolved, so that replays and the toy task never load it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")


def check_device(name: str) -> None:
    """Raise ValueError for an unknown name, or for ``cuda`` on a machine without CUDA; the
    other names need no check (and no torch)."""
    if name not in DEVICES or name == "cuda":
        resolve_device(name)  # raises for both


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; ``auto`` takes CUDA when present.

    Raises ValueError for an unknown name or when ``cuda`` is asked for but unavailable.
    """
    import torch

    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but torch sees no CUDA device")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
