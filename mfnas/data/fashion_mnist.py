"""Fashion-MNIST (Zalando, MIT licence) as four verified arrays, whatever the source.

60,000 training and 10,000 test grey 28x28 images of 10 clothing classes, stored as four IDX
files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``, each gzipped as ``<name>.gz`` or plain). Sources, tried in order
until one works:

1. a local folder holding the four files: the ``data_dir`` argument, else the
   ``MFNAS_FASHION_DIR`` environment variable;
2. the cache ``fashion-mnist.npz`` in the cache folder of ``mfnas.data.movielens`` (the
   ``cache_dir`` argument, else ``MFNAS_CACHE_DIR``, else ``~/.cache/mfnas``);
3. the official download from the dataset's GitHub repository (``OFFICIAL_URL``), with a short
   timeout per file (skipped when ``download=False``);
4. the files of the Debian package ``dataset-fashion-mnist``
   (``apt-get install dataset-fashion-mnist``), under ``/usr/share/datasets/fashion-mnist/``.

Every source is checked against the published counts (60,000 + 10,000 images of 28x28, labels
0..9) and the sha256 of each file's data after its IDX header (``SPEC.sha256``), so the arrays
are bit-identical whichever source served them; a gzip-recompressed copy, a plain copy and the
cache all verify alike. A download refreshes the cache; the local sources (1 and 4) are read in
place. When no source works, ``DataError`` (the one of ``mfnas.data.movielens``) says in one
line what each source tried gave.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfnas.data import DataError, cache_path, local_dir, one_line, write_cache

logger = logging.getLogger(__name__)

ENV_DIR = "MFNAS_FASHION_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
OFFICIAL_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"
DOWNLOAD_TIMEOUT_S = 10.0
CACHE_FILE = "fashion-mnist.npz"

#: The four parts: ``{part: IDX file name}``, the labels first (the smallest downloads).
FILES: dict[str, str] = {
    "train_labels": "train-labels-idx1-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
    "train_images": "train-images-idx3-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
}
IMAGE_MAGIC, LABEL_MAGIC = 0x0803, 0x0801  # IDX: unsigned bytes, 3 or 1 dimensions


@dataclass(frozen=True)
class DatasetSpec:
    """What a verified copy holds: the counts, the image shape, the classes, and the sha256
    of each part's bytes (uint8, C order: an IDX file's data after its header)."""

    n_train: int
    n_test: int
    image_shape: tuple[int, int]
    n_classes: int
    sha256: Mapping[str, str]


SPEC = DatasetSpec(
    n_train=60_000,
    n_test=10_000,
    image_shape=(28, 28),
    n_classes=10,
    sha256={
        "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "train_labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "test_labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    },
)


@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """The verified arrays: images uint8 ``(n, 28, 28)``, labels uint8 ``(n,)`` in 0..9, in
    the files' order; ``source`` names where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    debian_dir: str | os.PathLike[str] = DEBIAN_DIR,
    spec: DatasetSpec | None = None,
) -> FashionMNIST:
    """Load and verify Fashion-MNIST from the first source of the module doc that works.

    A bad ``data_dir`` argument raises DataError at once; a bad ``MFNAS_FASHION_DIR`` folder
    or cache file is logged and skipped. ``spec`` (default ``SPEC``) is what a copy must match
    (tests pass their own). Raises DataError, one line naming every source tried, when none
    works.
    """
    spec = spec or SPEC
    failures: list[str] = []
    cache = cache_path(CACHE_FILE, cache_dir)

    local, label = local_dir(data_dir, ENV_DIR, "folder {}")
    if local is not None:
        try:
            return _checked(label, lambda: _read_folder(local), spec)
        except DataError as exc:
            if data_dir is not None:
                raise
            logger.warning("skipping %s", exc)
            failures.append(str(exc))

    label = f"cache {cache}"
    if cache.exists():
        try:
            return _checked(label, lambda: _read_cache(cache), spec)
        except DataError as exc:
            logger.warning("ignoring %s", exc)
            failures.append(str(exc))
    else:
        failures.append(f"{label}: no such file")

    if download:
        try:
            data = _checked(f"download {OFFICIAL_URL}", _download, spec)
        except DataError as exc:
            failures.append(str(exc))
        else:
            write_cache(cache, "Fashion-MNIST", **{part: getattr(data, part) for part in FILES})
            return data
    else:
        failures.append("download skipped (download=False)")

    debian = Path(debian_dir)
    try:
        return _checked(f"Debian package files in {debian}", lambda: _read_folder(debian), spec)
    except DataError as exc:
        failures.append(str(exc))
    raise DataError(one_line("no Fashion-MNIST source worked: " + "; ".join(failures)))


def _checked(
    label: str, read: Callable[[], dict[str, np.ndarray]], spec: DatasetSpec
) -> FashionMNIST:
    """``read()`` then verify against ``spec``; a DataError comes out as ``"<label>: <why>"``."""
    try:
        parts = read()
        _verify(parts, spec)
    except DataError as exc:
        raise DataError(f"{label}: {exc}") from exc
    logger.info("Fashion-MNIST from %s", label)
    return FashionMNIST(**parts, source=label)


def _verify(parts: dict[str, np.ndarray], spec: DatasetSpec) -> None:
    """Raise DataError listing what differs from ``spec``: counts, shapes, labels, checksums."""
    problems = []
    for split, n in (("train", spec.n_train), ("test", spec.n_test)):
        images, labels = parts[f"{split}_images"], parts[f"{split}_labels"]
        if images.shape != (n, *spec.image_shape):
            height, width = spec.image_shape
            problems.append(
                f"{split} images of shape {images.shape}, expected {n:,} of {height}x{width}"
            )
        if labels.shape != (n,):
            problems.append(f"{len(labels):,} {split} labels, expected {n:,}")
        elif n and labels.max() >= spec.n_classes:
            problems.append(
                f"{split} labels up to {labels.max()}, expected 0..{spec.n_classes - 1}"
            )
    if not problems:
        for part, want in spec.sha256.items():
            digest = hashlib.sha256(np.ascontiguousarray(parts[part]).tobytes()).hexdigest()
            if digest != want:
                problems.append(f"{FILES[part]} sha256 {digest[:12]}... is not the published one")
    if problems:
        raise DataError(", ".join(problems))


def parse_idx(raw: bytes) -> np.ndarray:
    """The uint8 array of one IDX file's bytes (big-endian header: magic, then one int32 size
    per dimension); DataError when the header or the length is wrong."""
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise DataError("not an IDX file of unsigned bytes")
    ndim = raw[3]
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise DataError("truncated IDX header")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=offset)
    if data.size != int(np.prod(shape)):
        raise DataError(f"IDX data of {data.size:,} bytes, its header says {shape}")
    return data.reshape(shape)


def _decoded(name: str, raw: bytes, gzipped: bool) -> np.ndarray:
    """Parse ``raw`` (gunzipped first when ``gzipped``); check the magic number of ``name``."""
    try:
        data = gzip.decompress(raw) if gzipped else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{name}.gz: bad gzip ({one_line(exc)})") from exc
    try:
        array = parse_idx(data)
    except DataError as exc:
        raise DataError(f"{name}: {exc}") from exc
    magic = IMAGE_MAGIC if "images" in name else LABEL_MAGIC
    if int.from_bytes(data[:4], "big") != magic:
        raise DataError(f"{name}: IDX magic {data[:4].hex()}, expected {magic:08x}")
    return array


def _read_folder(folder: Path) -> dict[str, np.ndarray]:
    """The four parts from ``folder``, each from ``<name>.gz`` or else plain ``<name>``."""
    if not folder.is_dir():
        raise DataError("no such folder")
    parts = {}
    for part, name in FILES.items():
        for path, gzipped in ((folder / f"{name}.gz", True), (folder / name, False)):
            if path.is_file():
                try:
                    raw = path.read_bytes()
                except OSError as exc:
                    raise DataError(one_line(exc)) from exc
                parts[part] = _decoded(name, raw, gzipped)
                break
        else:
            raise DataError(f"no {name}.gz or {name}")
    return parts


def _download() -> dict[str, np.ndarray]:
    """The four gzipped files from ``OFFICIAL_URL``, parsed in memory (unverified); stops at
    the first file that cannot be fetched within ``DOWNLOAD_TIMEOUT_S``."""
    parts = {}
    for part, name in FILES.items():
        try:
            with urllib.request.urlopen(
                f"{OFFICIAL_URL}/{name}.gz", timeout=DOWNLOAD_TIMEOUT_S
            ) as response:
                raw = response.read()
        except urllib.error.URLError as exc:
            raise DataError(f"unreachable ({one_line(exc.reason)})") from exc
        except OSError as exc:  # timeouts and dropped connections
            raise DataError(f"unreachable ({one_line(exc) or type(exc).__name__})") from exc
        parts[part] = _decoded(name, raw, gzipped=True)
    return parts


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    """The cached parts; DataError on any failure (a cache file is never trusted)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {part: npz[part] for part in FILES}
    except Exception as exc:  # a cache file may be damaged in any way; it must never crash
        raise DataError(f"unreadable ({type(exc).__name__}: {one_line(exc)})") from exc
