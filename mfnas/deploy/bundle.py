"""The model folder an export writes and a server reads.

A bundle is a folder of four files:

- ``manifest.json``: what the model is (``format``, the ``task`` and its options, the
  ``config``, the training ``seed`` and ``epochs``, where it came from: ``source`` with the run
  folder, strategy, seed and trial), what it scored (``metrics``: ``val`` and ``test`` after
  its last epoch; ``recorded``: the run's own record of the same training), the ``data``
  fingerprint (source, checksum, split seed), the served model's own ``serving`` description
  (its endpoint and input format) and the versions it was made with;
- ``weights.safetensors``: the model's state dict (safetensors: no code runs when it is read);
- ``arrays.npz``: what serving needs beside the weights (id maps, each user's seen items, item
  popularity, ...), plain numpy arrays, read without pickle;
- ``MODEL.md``: the model card, for people.

``write_bundle`` writes the folder atomically (a sibling folder renamed into place), so a
kill leaves the old bundle or none; ``read_bundle`` checks the format and the files.
"""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
MANIFEST, WEIGHTS, ARRAYS, CARD = "manifest.json", "weights.safetensors", "arrays.npz", "MODEL.md"


class BundleError(ValueError):
    """A model folder that cannot be written or is not a readable bundle; one line, naming it."""


@dataclass(frozen=True)
class Bundle:
    """A bundle in memory: its manifest, its weights (name -> CPU tensor) and its arrays."""

    manifest: dict[str, Any]
    weights: dict[str, Any]
    arrays: dict[str, np.ndarray]


def family(config: dict[str, Any]) -> str:
    """The model family a configuration names: recsys and rating models name it ``model``,
    text models ``encoder``; the image tasks search one family, a CNN."""
    return str(config.get("model") or config.get("encoder") or "cnn")


REQUIRED = ("task", "config", "source", "serving", "metrics", "created", "versions")


def check_replaceable(folder: Path, overwrite: bool) -> None:
    """Raise BundleError unless ``folder`` may be written: it does not exist, is an empty
    folder, or (with ``overwrite``) holds a bundle. Anything else (a file, another folder: a
    run, a home directory) is never replaced."""
    folder = Path(folder)
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    if not overwrite:
        raise BundleError(f"{folder} exists and is not empty; pass --overwrite to replace it")
    if not (folder.is_dir() and (folder / MANIFEST).is_file()):
        raise BundleError(f"{folder} is not a model folder; --overwrite replaces only those")


def write_bundle(folder: Path, bundle: Bundle, card: str, overwrite: bool = False) -> None:
    """Write ``bundle`` and its ``card`` into ``folder`` (``check_replaceable`` says when it
    may; an old bundle is replaced whole). Raises BundleError."""
    from safetensors.torch import save_file

    folder = Path(folder)
    check_replaceable(folder, overwrite)
    partial = folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        partial.mkdir(parents=True)
        manifest = {"format": FORMAT, **bundle.manifest}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        weights = {name: tensor.contiguous() for name, tensor in bundle.weights.items()}
        save_file(weights, str(partial / WEIGHTS), metadata={"task": str(manifest["task"])})
        np.savez(partial / ARRAYS, **bundle.arrays)
        (partial / CARD).write_text(card)
        if folder.exists():
            shutil.rmtree(folder)
        partial.rename(folder)
    except OSError as exc:
        raise BundleError(
            f"cannot write the model folder {folder}: {exc.strerror or exc}"
        ) from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def read_bundle(folder: Path) -> Bundle:
    """The bundle in ``folder``. Raises BundleError for a missing folder or file, another
    format, or a file that does not parse."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder} is not a model folder (python -m mfnas.export writes one)")
    missing = [name for name in (MANIFEST, WEIGHTS, ARRAYS) if not (folder / name).is_file()]
    if missing:
        raise BundleError(f"{folder} is not a model folder: no {', '.join(missing)}")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"{folder / MANIFEST}: not a format-{FORMAT} mfnas model manifest")
        missing_keys = [key for key in REQUIRED if key not in manifest]
        if missing_keys:
            raise BundleError(f"{folder / MANIFEST}: no {', '.join(missing_keys)}")
        weights = load_file(str(folder / WEIGHTS))
        with np.load(folder / ARRAYS, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, SafetensorError, zipfile.BadZipFile, zlib.error) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"{folder}: unreadable model file: {exc}") from None
    return Bundle(manifest, weights, arrays)
