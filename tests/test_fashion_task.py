"""The fashion task: the Fashion-MNIST loader and its sources, the split, training, pickling.

Everything runs on tiny synthetic IDX files written to ``tmp_path`` (with a ``DatasetSpec``
describing them), except one check of the real Debian package files, skipped where they are
not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mfnas.data import fashion_mnist
from mfnas.data.fashion_mnist import (
    DEBIAN_DIR,
    FILES,
    DatasetSpec,
    FashionMNIST,
    load_fashion_mnist,
    parse_idx,
)
from mfnas.data.movielens import DataError
from mfnas.spaces import plain_config
from mfnas.tasks import make_task
from mfnas.tasks.base import Result
from mfnas.tasks.fashion import FashionTask, fashion_split
from mfnas.tasks.image import ImageConfig, ImageTrainer, build_cnn
from mfnas.tasks.image.data import stratified_subset
from mfnas.tasks.image.metrics import NAMES

N_CLASSES, TRAIN_PER_CLASS, TEST_PER_CLASS = 10, 40, 3
N_TRAIN, N_VAL = 300, 60  # of the 400 synthetic training images: 30 and 6 a class
CPU = torch.device("cpu")
SMALL = ImageConfig(  # cheap, and uses every source of randomness (init, order, dropout)
    blocks=2,
    channels_1=4,
    channels_2=4,
    kernel_size=3,
    pooling="max",
    batch_norm=True,
    activation="relu",
    dropout=0.3,
    dense_width=16,
    optimizer="sgd",
    learning_rate=0.05,
    weight_decay=1e-4,
    batch_size=16,
)


def _parts(seed: int = 0) -> dict[str, np.ndarray]:
    """Tiny Fashion-MNIST-shaped parts: balanced classes whose mean brightness differs."""
    rng = np.random.default_rng(seed)
    parts = {}
    for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        labels = rng.permutation(np.repeat(np.arange(N_CLASSES), per_class)).astype(np.uint8)
        noise = rng.integers(0, 100, size=(len(labels), 28, 28))
        parts[f"{split}_images"] = (noise + 15 * labels[:, None, None]).astype(np.uint8)
        parts[f"{split}_labels"] = labels
    return parts


def _spec(parts: dict[str, np.ndarray]) -> DatasetSpec:
    digests = {part: hashlib.sha256(array.tobytes()).hexdigest() for part, array in parts.items()}
    return DatasetSpec(
        n_train=len(parts["train_labels"]),
        n_test=len(parts["test_labels"]),
        image_shape=(28, 28),
        n_classes=N_CLASSES,
        sha256=digests,
    )


def _idx(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes (magic 0x0801 or 0x0803, then big-endian sizes)."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def _write(folder: Path, parts: dict[str, np.ndarray], gzipped: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for part, name in FILES.items():
        raw = _idx(parts[part])
        if gzipped:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


PARTS = _parts()
SPEC = _spec(PARTS)


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The official download fails at once (no network in tests); returns a call log."""
    calls: list[str] = []

    def fail() -> dict[str, np.ndarray]:
        calls.append("download")
        raise DataError("unreachable (test)")

    monkeypatch.setattr(fashion_mnist, "_download", fail)
    monkeypatch.delenv("MFNAS_FASHION_DIR", raising=False)
    return calls


def _load(tmp_path: Path, **options) -> FashionMNIST:
    options.setdefault("cache_dir", tmp_path / "cache")
    options.setdefault("debian_dir", tmp_path / "no-debian")
    return load_fashion_mnist(spec=SPEC, **options)


def _same(data: FashionMNIST, parts: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(getattr(data, part), array) for part, array in parts.items())


# --- the loader ------------------------------------------------------------------------------


def test_parse_idx_reads_the_header_and_refuses_bad_files() -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(_idx(array)), array)
    with pytest.raises(DataError, match="not an IDX"):
        parse_idx(b"\x00\x00\x0d\x01" + _idx(array)[4:])  # float data, not unsigned bytes
    with pytest.raises(DataError, match="header says"):
        parse_idx(_idx(array)[:-1])


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_folder_argument_comes_first(tmp_path: Path, no_download, gzipped: bool) -> None:
    folder = _write(tmp_path / "mine", PARTS, gzipped)
    _write(tmp_path / "debian", _parts(seed=1))  # would fail its checksum: never read
    data = _load(tmp_path, data_dir=folder, debian_dir=tmp_path / "debian")
    assert _same(data, PARTS) and data.source == f"folder {folder}"
    assert no_download == [] and not (tmp_path / "cache").exists()  # read in place


def test_the_environment_folder_is_used_and_a_bad_one_skipped(
    tmp_path: Path, no_download, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _write(tmp_path / "env", PARTS)
    monkeypatch.setenv("MFNAS_FASHION_DIR", str(folder))
    assert _load(tmp_path).source == f"folder {folder} (MFNAS_FASHION_DIR)"
    monkeypatch.setenv("MFNAS_FASHION_DIR", str(tmp_path / "missing"))
    debian = _write(tmp_path / "debian", PARTS)
    assert _load(tmp_path, debian_dir=debian).source == f"Debian package files in {debian}"


def test_a_bad_folder_argument_fails_at_once(tmp_path: Path, no_download) -> None:
    debian = _write(tmp_path / "debian", PARTS)
    with pytest.raises(DataError, match="no such folder"):
        _load(tmp_path, data_dir=tmp_path / "missing", debian_dir=debian)
    assert no_download == []


def test_sources_are_tried_in_order_and_a_download_fills_the_cache(
    tmp_path: Path, no_download, monkeypatch: pytest.MonkeyPatch
) -> None:
    debian = _write(tmp_path / "debian", PARTS)
    data = _load(tmp_path, debian_dir=debian)  # no folder, no cache, the download fails
    assert data.source == f"Debian package files in {debian}" and no_download == ["download"]
    assert not (tmp_path / "cache").exists()  # the Debian files are read in place

    monkeypatch.setattr(fashion_mnist, "_download", lambda: dict(PARTS))
    cache = tmp_path / "cache" / fashion_mnist.CACHE_FILE
    assert _load(tmp_path).source.startswith("download ") and cache.exists()
    monkeypatch.setattr(fashion_mnist, "_download", lambda: pytest.fail("cache not used"))
    cached = _load(tmp_path)
    assert cached.source == f"cache {cache}" and _same(cached, PARTS)

    cache.write_bytes(b"damaged")  # a damaged cache is skipped, never trusted
    assert _load(tmp_path, debian_dir=debian, download=False).source.startswith("Debian")


def test_counts_and_checksums_are_verified(tmp_path: Path, no_download) -> None:
    short = {**PARTS, "test_labels": PARTS["test_labels"][:-1]}
    with pytest.raises(DataError, match=r"29 test labels, expected 30"):
        _load(tmp_path, data_dir=_write(tmp_path / "short", short))
    edited = {**PARTS, "train_images": PARTS["train_images"].copy()}
    edited["train_images"][0, 0, 0] ^= 1  # one pixel differs
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte sha256 .* not the published"):
        _load(tmp_path, data_dir=_write(tmp_path / "edited", edited))
    folder = _write(tmp_path / "swapped", PARTS)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(PARTS["test_images"])))
    with pytest.raises(DataError, match="IDX magic 00000803, expected 00000801"):
        _load(tmp_path, data_dir=folder)


def test_when_nothing_works_one_line_names_every_source(
    tmp_path: Path, no_download, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFNAS_FASHION_DIR", str(tmp_path / "env"))
    with pytest.raises(DataError) as caught:
        _load(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("no Fashion-MNIST source worked: ")
    for source in ("(MFNAS_FASHION_DIR)", "cache ", "unreachable (test)", "Debian package"):
        assert source in message, source
    with pytest.raises(DataError, match="download skipped"):
        _load(tmp_path, download=False)


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_the_debian_package_files_are_the_published_dataset(tmp_path: Path, no_download) -> None:
    data = load_fashion_mnist(cache_dir=tmp_path, download=False)  # verified against SPEC
    assert data.source.startswith("Debian package files")
    assert data.train_images.shape == (60_000, 28, 28) and data.test_images.shape == (
        10_000,
        28,
        28,
    )
    assert np.bincount(data.train_labels).tolist() == [6_000] * 10
    assert data.train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


# --- the split -------------------------------------------------------------------------------


def test_stratified_subset_is_exact_on_balanced_classes_disjoint_and_fixed() -> None:
    labels = np.repeat(np.arange(10), 6_000)
    train, val = stratified_subset(labels, 10_000, 5_000, seed=0)
    assert (len(train), len(val)) == (10_000, 5_000)
    assert np.bincount(labels[train]).tolist() == [1_000] * 10
    assert np.bincount(labels[val]).tolist() == [500] * 10
    assert not set(train) & set(val) and list(train) == sorted(train)
    again = stratified_subset(labels, 10_000, 5_000, seed=0)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], val)
    assert not np.array_equal(stratified_subset(labels, 10_000, 5_000, seed=1)[0], train)
    with pytest.raises(ValueError, match="cannot take"):
        stratified_subset(labels, 50_000, 20_000)


def test_the_split_takes_a_stratified_subset_and_the_official_test_images() -> None:
    data = FashionMNIST(**PARTS, source="test")
    split = fashion_split(data, N_TRAIN, N_VAL, seed=0)
    assert (len(split.train), len(split.val), len(split.test)) == (N_TRAIN, N_VAL, 30)
    assert split.images.shape == (N_TRAIN + N_VAL + 30, 1, 28, 28)
    assert split.images.dtype == np.float32
    assert np.bincount(split.labels[split.train]).tolist() == [30] * 10
    assert np.bincount(split.labels[split.val]).tolist() == [6] * 10
    assert np.array_equal(split.labels[split.test], data.test_labels)  # in the files' order
    pixels = split.images[split.train]
    assert abs(pixels.mean()) < 1e-5 and abs(pixels.std() - 1) < 1e-4  # scaled on train only
    train, _ = stratified_subset(data.train_labels, N_TRAIN, N_VAL, seed=0)
    raw = data.train_images[train].astype(np.float64)
    expected = (data.test_images.astype(np.float64) - raw.mean()) / raw.std()
    assert np.allclose(split.images[split.test, 0], expected, atol=1e-5)
    again = fashion_split(data, N_TRAIN, N_VAL, seed=0)
    assert np.array_equal(again.images, split.images)


# --- the task --------------------------------------------------------------------------------


@pytest.fixture
def tiny_task() -> FashionTask:
    """A fashion task whose split is the tiny synthetic one (set in place of the real data)."""
    task = FashionTask(device="cpu")
    task._split = fashion_split(FashionMNIST(**PARTS, source="test"), N_TRAIN, N_VAL)
    return task


def _check(result: Result, epochs: int) -> None:
    assert len(result.curve) == len(result.epoch_seconds) == result.epochs == epochs
    assert tuple(result.val) == tuple(result.test or {}) == NAMES
    assert result.is_finite() and result.curve[-1] == result.val["accuracy"]
    assert all(0 <= v <= 1 for v in result.curve)


def test_one_epoch_of_the_default_configuration_on_tiny_data(tiny_task: FashionTask) -> None:
    _check(tiny_task.evaluate(tiny_task.space.get_default_configuration(), 1, seed=0), 1)


def test_a_short_training_is_exactly_the_prefix_of_a_longer_one(tiny_task: FashionTask) -> None:
    trainer = ImageTrainer(tiny_task.split, CPU)
    four = trainer.run(SMALL, 4, seed=5)
    _check(four, 4)
    for epochs in (1, 3):
        short = trainer.run(SMALL, epochs, seed=5)
        assert short.curve == four.curve[:epochs]
        assert short.extra["train_loss"] == four.extra["train_loss"][:epochs]
    assert four.extra["train_loss"][3] != four.extra["train_loss"][2]  # it kept training
    other = trainer.run(SMALL, 3, seed=6)
    assert other.extra["train_loss"] != four.extra["train_loss"][:3]


def test_the_task_contract_registry_and_pickling(tmp_path: Path, tiny_task: FashionTask) -> None:
    assert (tiny_task.name, tiny_task.metric, tiny_task.maximize) == ("fashion", "accuracy", True)
    assert (tiny_task.min_epochs, tiny_task.max_epochs) == (1, 27)
    fresh = make_task("fashion", max_epochs=9, device="cpu", data_dir=str(tmp_path))
    assert isinstance(fresh, FashionTask) and fresh.max_epochs == 9
    assert fresh.data_dir == str(tmp_path)
    assert pickle.loads(pickle.dumps(fresh))._split is None  # picklable before first use (no data)
    space = tiny_task.space
    space.seed(1)
    _check(tiny_task.evaluate(space.sample_configuration(), 1, 0), 1)  # numpy-scalar values
    assert tiny_task._trainer is not None
    revived = pickle.loads(pickle.dumps(tiny_task))
    assert revived._split is None and revived._trainer is None


def test_the_data_card_names_the_subset(tiny_task: FashionTask) -> None:
    card = tiny_task.data_card()
    assert "Fashion-MNIST" in card and "MovieLens" not in card
    assert "300 train / 60 validation images of the 60,000 training images" in card
    assert "30 official test images" in card


def test_references_are_computed_once_and_kept(
    tiny_task: FashionTask, monkeypatch: pytest.MonkeyPatch, empty_reference_cache: Path
) -> None:
    from mfnas.tasks.image import reference

    calls = []
    real = reference.reference_rows
    monkeypatch.setattr(reference, "reference_rows", lambda *a: calls.append(1) or real(*a))
    rows = tiny_task.references()
    assert set(rows) == {"logistic-regression", "svm-rbf"} and calls == [1]
    for row in rows.values():
        assert (
            tuple(row["val"]) == tuple(row["test"]) == NAMES
            and "tuned on validation" in row["note"]
        )
    rows["svm-rbf"]["note"] = "changed by a caller"
    assert tiny_task.references()["svm-rbf"]["note"] != "changed by a caller" and calls == [1]


def test_the_space_is_conditional_and_every_corner_builds_on_28x28(
    tiny_task: FashionTask,
) -> None:
    space = tiny_task.space
    space.seed(0)
    for config in space.sample_configuration(100):
        values = plain_config(config)
        assert ("channels_2" in values) == (values["blocks"] != 1)
        assert ("channels_3" in values) == (values["blocks"] == 3)
        assert values["pooling"] != "none" and values["channels_1"] <= 32
    x = torch.randn(2, 1, 28, 28)
    for blocks, pooling, kernel, (first, later) in itertools.product(
        (1, 2, 3), ("max", "avg"), (3, 5), ((8, 8), (32, 64))
    ):
        config = replace(
            SMALL,
            blocks=blocks,
            channels_1=first,
            channels_2=later if blocks >= 2 else None,
            channels_3=later if blocks == 3 else None,
            pooling=pooling,
            kernel_size=kernel,
            dense_width=256,
        )
        assert build_cnn(config, (1, 28, 28), 10)(x).shape == (2, 10), config
