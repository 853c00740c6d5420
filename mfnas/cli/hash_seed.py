"""Pinning ``PYTHONHASHSEED`` before anything heavy is imported.

SMAC's proposals depend on Python's string hashing, so without a fixed hash seed the same run
seed gives other trials in another process. ``pin_hash_seed`` re-executes the program at once,
with the seed set, when the environment does not already have the one wanted: a resumed run's
own (recorded in its ``run.json``), else the environment's, else 0. It reads the command line
with nothing but the standard library, so the re-execution costs one bare interpreter start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def recorded_hash_seed(out: Path) -> str | None:
    """The ``PYTHONHASHSEED`` the run (or a suite's first run) in ``out`` recorded, if any."""
    try:
        if (out / "suite.json").exists():
            out = out / json.loads((out / "suite.json").read_text())["runs"][0]
        return json.loads((out / "run.json").read_text()).get("pythonhashseed")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None  # nothing readable: the resume itself says so


def pin_hash_seed(module: str, argv: list[str] | None = None) -> None:
    """Re-execute ``python -m module argv`` with the wanted hash seed unless it is set."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", type=Path)
    known, _ = parser.parse_known_args(argv)
    stored = recorded_hash_seed(known.out) if known.resume and known.out else None
    wanted = stored or os.environ.get("PYTHONHASHSEED") or "0"
    if os.environ.get("PYTHONHASHSEED") != wanted:
        os.environ["PYTHONHASHSEED"] = wanted
        os.execv(sys.executable, [sys.executable, "-m", module, *argv])
