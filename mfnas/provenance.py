"""Where and with what a run or a recording was made: package versions, the git commit, the
machine. What ``run.json``, ``collection.json`` and the surrogate cards record."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

#: The distributions whose versions decide a run's numbers.
VERSIONED = ("torch", "numpy", "smac", "ConfigSpace", "xgboost")


def versions(names: tuple[str, ...] = VERSIONED) -> dict[str, str]:
    """Python's version and each named distribution's (``not installed`` when missing)."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str | None:
    """The commit of the checkout mfnas runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, object]:
    """The platform, the processor and the number of CPUs of this machine."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def now() -> str:
    """The current UTC time, to the second, in ISO format."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
