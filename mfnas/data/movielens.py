"""MovieLens-100K ratings as one verified array, whatever the source.

Sources, tried in order until one works:

1. a local folder in GroupLens layout holding ``u.data``: the ``data_dir`` argument, else the
   ``MFNAS_DATA_DIR`` environment variable;
2. the cache ``ml-100k.npz`` in ``cache_dir``, else ``MFNAS_CACHE_DIR``, else ``~/.cache/mfnas``;
3. the official GroupLens zip (skipped when ``download=False``);
4. the copy of the same ratings shipped inside the ``recbole`` wheel, fetched with
   ``pip download`` and read as a zip, never installed (skipped when ``download=False``).

Every source is checked against the published counts and a content checksum, so the array is
bit-identical whichever source served it. A fetch from 1, 3 or 4 refreshes the cache.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mfnas.data import DataError, cache_path, local_dir, one_line, wheel_members, write_cache

logger = logging.getLogger(__name__)

#: sha256 of the canonical array (rows sorted by user then item, little-endian int64, C order).
ML100K_SHA256 = "ec862504a8c24b195f5194e51fb18bb2d59428d00d96d6d1c63433a3bd5f2f47"
N_RATINGS, N_USERS, N_ITEMS = 100_000, 943, 1_682

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
GROUPLENS_TIMEOUT_S = 15.0
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
CACHE_FILE = "ml-100k.npz"


def load_ml100k(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> np.ndarray:
    """The 100,000 MovieLens-100K ratings; see ``load_ml100k_with_source``."""
    return load_ml100k_with_source(data_dir, cache_dir, download)[0]


def load_ml100k_with_source(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> tuple[np.ndarray, str]:
    """Load and verify MovieLens-100K; return the ratings and a label of the source used.

    The array is int64 of shape (100000, 4), columns user_id, item_id, rating, timestamp with
    the raw GroupLens ids (users 1..943, items 1..1682), rows sorted by (user, item).
    A bad ``data_dir`` argument raises DataError at once; a bad ``MFNAS_DATA_DIR`` folder or
    cache file is logged and skipped. Raises DataError, one line, when no source works.
    """
    failures: list[str] = []
    cache = cache_path(CACHE_FILE, cache_dir)
    local, label = local_dir(data_dir, "MFNAS_DATA_DIR", "u.data in {}")
    if local is not None:
        try:
            return _fetched(label, lambda: _read_table(local / "u.data"), cache)
        except DataError as exc:
            if data_dir is not None:
                raise
            logger.warning("skipping %s", exc)
            failures.append(str(exc))

    label = f"cache {cache}"
    if cache.exists():
        try:
            ratings = _checked(label, lambda: _read_cache(cache))
        except DataError as exc:
            logger.warning("ignoring %s", exc)
            failures.append(str(exc))
        else:
            logger.info("MovieLens-100K from %s", label)
            return ratings, label
    else:
        failures.append(f"{label}: no such file")

    if download:
        for label, fetch in (
            (f"GroupLens {GROUPLENS_URL}", _fetch_grouplens),
            (f"{RECBOLE_REQUIREMENT} wheel", _fetch_recbole_wheel),
        ):
            try:
                return _fetched(label, fetch, cache)
            except DataError as exc:
                failures.append(str(exc))
    else:
        failures.append("downloads skipped (download=False)")
    raise DataError(one_line("no MovieLens-100K source worked: " + "; ".join(failures)))


def _checked(label: str, read: Callable[[], np.ndarray]) -> np.ndarray:
    """``read()`` then verify; any DataError comes out as ``"<label>: <what was wrong>"``."""
    try:
        return _verified(read())
    except DataError as exc:
        raise DataError(f"{label}: {exc}") from exc


def _fetched(label: str, read: Callable[[], np.ndarray], cache: Path) -> tuple[np.ndarray, str]:
    """Read and verify a non-cache source, log it, refresh the cache, return (ratings, label)."""
    ratings = _checked(label, read)
    logger.info("MovieLens-100K from %s", label)
    write_cache(cache, "MovieLens-100K", ratings=ratings)
    return ratings, label


def _parse(raw: bytes, header: bool) -> np.ndarray:
    """Parse tab-separated ``user item rating timestamp`` rows into an int64 array."""
    try:
        return np.loadtxt(
            io.BytesIO(raw), dtype=np.int64, delimiter="\t", skiprows=int(header), ndmin=2
        )
    except ValueError as exc:
        raise DataError(f"unparsable ratings ({one_line(exc)})") from exc


def _read_table(path: Path) -> np.ndarray:
    """Read a headerless ratings file; DataError when it is missing or unparsable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError("no such file") from exc
    except OSError as exc:
        raise DataError(one_line(exc)) from exc
    return _parse(raw, header=False)


def _read_cache(path: Path) -> np.ndarray:
    """Read the cached array; DataError on any failure (a cache file is never trusted)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz["ratings"]
    except Exception as exc:  # a cache file may be damaged in any way; it must never crash
        raise DataError(f"unreadable ({type(exc).__name__}: {one_line(exc)})") from exc


def _verified(ratings: np.ndarray) -> np.ndarray:
    """Return ``ratings`` in canonical order after checking counts, ranges and the checksum."""
    problems = []
    if not np.issubdtype(ratings.dtype, np.integer):
        problems.append(f"dtype {ratings.dtype}, expected integers")
    elif ratings.ndim != 2 or ratings.shape[1] != 4:
        problems.append(f"array of shape {ratings.shape}, expected (n, 4)")
    else:
        users, items, stars = ratings[:, 0], ratings[:, 1], ratings[:, 2]
        for what, got, want in (
            ("ratings", len(ratings), N_RATINGS),
            ("users", len(np.unique(users)), N_USERS),
            ("items", len(np.unique(items)), N_ITEMS),
        ):
            if got != want:
                problems.append(f"{got:,} {what}, expected {want:,}")
        if len(stars) and not (stars.min() >= 1 and stars.max() <= 5):
            problems.append(f"ratings span {stars.min()}..{stars.max()}, expected 1..5")
    if not problems:
        ratings = canonical(ratings)
        digest = content_sha256(ratings)
        if digest != ML100K_SHA256:
            problems.append(f"content sha256 {digest[:12]}... differs from ML100K_SHA256")
    if problems:
        raise DataError(", ".join(problems))
    return ratings


def canonical(ratings: np.ndarray) -> np.ndarray:
    """Rows sorted by (user, item), as a C-ordered int64 array."""
    order = np.lexsort((ratings[:, 1], ratings[:, 0]))
    return np.ascontiguousarray(ratings[order], dtype=np.int64)


def content_sha256(ratings: np.ndarray) -> str:
    """sha256 hex digest of the array's bytes as little-endian int64 in C order."""
    return hashlib.sha256(np.ascontiguousarray(ratings, dtype="<i8").tobytes()).hexdigest()


def _fetch_grouplens() -> np.ndarray:
    """Download the GroupLens zip and parse ``ml-100k/u.data`` in memory (unverified)."""
    try:
        with urllib.request.urlopen(GROUPLENS_URL, timeout=GROUPLENS_TIMEOUT_S) as response:
            payload = response.read()
    except urllib.error.URLError as exc:
        raise DataError(f"unreachable ({one_line(exc.reason)})") from exc
    except OSError as exc:  # timeouts and dropped connections
        raise DataError(f"unreachable ({one_line(exc) or type(exc).__name__})") from exc
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            raw = archive.read("ml-100k/u.data")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"bad zip ({one_line(exc)})") from exc
    return _parse(raw, header=False)


def _fetch_recbole_wheel() -> np.ndarray:
    """The ratings file inside the recbole wheel (``wheel_members``), parsed (unverified)."""
    raw = wheel_members(RECBOLE_REQUIREMENT, (RECBOLE_MEMBER,))[RECBOLE_MEMBER]
    return _parse(raw, header=True)
