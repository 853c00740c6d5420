"""An exclusive lock on a run's output folder for the life of the run.

The lock is an advisory ``flock`` on the folder itself (no lock file is written, so a refused
run changes nothing in the folder). The kernel releases it when the process ends, however it
ends (an exception, Ctrl-C, kill -9), so a stale lock cannot outlive its run. The file
descriptor is not inherited by child processes (Dask workers), which therefore never hold it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FolderInUse(RuntimeError):
    """The folder is locked by another run; the message names the holder when it is known."""


def _holder(folder: Path) -> str:
    """The process holding a lock on ``folder`` as ``process N``, from ``/proc/locks``
    (Linux); ``another process`` where that cannot be read."""
    stat = os.stat(folder)
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        if "FLOCK" in fields and device in fields:
            return f"process {fields[fields.index(device) - 1]}"
    return "another process"


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the existing ``folder`` for the block; raise FolderInUse at
    once (never wait) when another process holds it."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUse(
                f"{folder} is in use by {_holder(folder)} (a run is writing it); wait for it "
                "to end or choose another --out"
            ) from None
        yield
    finally:
        os.close(descriptor)  # releases the lock
