"""What the command-line entry points share: one-line errors, positive-number arguments."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    """An argparse type: a positive integer, else a one-line error naming the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_int_list(text: str) -> list[int]:
    """An argparse type: comma-separated positive integers (``5,10,20``)."""
    return [positive_int(part.strip()) for part in text.split(",")]


def on_off(text: str) -> bool:
    """An argparse type: ``on`` or ``off`` (as True or False), else a one-line error."""
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"choose on or off, not {text!r}")
    return text == "on"


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0, else a one-line error naming it."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a positive number of seconds, else a one-line error naming it."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value
