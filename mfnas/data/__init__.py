"""Datasets behind the tasks, loaded from real sources and verified by content checksum.

What every loader shares lives here: ``DataError`` (no usable data; one line naming every
source tried), the folder a loader reads first (an argument, else an environment variable),
where caches go, and the atomic write of a verified copy to the cache.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class DataError(RuntimeError):
    """No usable data: the one-line message names each source tried and why it failed."""


def one_line(text: object) -> str:
    """``text`` with its line breaks turned into spaces (errors here are one line)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def local_dir(
    data_dir: str | os.PathLike[str] | None, env: str, describe: str
) -> tuple[Path | None, str]:
    """The local folder to try first (``data_dir``, else the ``env`` variable) and its label,
    ``describe`` formatted with the folder (e.g. ``"u.data in {}"``); (None, "") for none."""
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        return folder, describe.format(folder)
    value = os.environ.get(env)
    if not value:
        return None, ""
    folder = Path(value).expanduser()
    return folder, f"{describe.format(folder)} ({env})"


def cache_path(name: str, cache_dir: str | os.PathLike[str] | None) -> Path:
    """The cache file ``name``: in ``cache_dir``, else ``MFNAS_CACHE_DIR``, else
    ``~/.cache/mfnas``."""
    folder = cache_dir if cache_dir is not None else os.environ.get("MFNAS_CACHE_DIR")
    base = Path(folder).expanduser() if folder else Path.home() / ".cache" / "mfnas"
    return base / name


def write_cache(path: Path, what: str, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to the cache ``path`` atomically (a temp file in its folder, then
    ``os.replace``); a failure is logged as a warning naming ``what``, never raised."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp = Path(handle.name)
            np.savez_compressed(handle, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("could not write the %s cache %s: %s", what, path, one_line(exc))
        if tmp is not None:
            tmp.unlink(missing_ok=True)
