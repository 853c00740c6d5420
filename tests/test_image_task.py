"""The image task: the digits split, the metrics, the CNN space, training and references."""

from __future__ import annotations

import hashlib
import itertools
import math
import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, log_loss

from mfnas.cli.bench import main as bench_main
from mfnas.spaces import plain_config
from mfnas.tasks import make_task
from mfnas.tasks.base import Result
from mfnas.tasks.image import (
    ImageConfig,
    ImageSplit,
    ImageTask,
    ImageTrainer,
    build_cnn,
    classification_metrics,
    stratified_split,
)
from mfnas.tasks.image.data import scale_images
from mfnas.tasks.image.metrics import NAMES

CPU = torch.device("cpu")
SMALL = ImageConfig(  # a cheap configuration that uses every source of randomness
    blocks=1,
    channels_1=8,
    kernel_size=3,
    pooling="max",
    batch_norm=True,
    activation="relu",
    dropout=0.3,
    dense_width=16,
    optimizer="sgd",
    learning_rate=0.05,
    weight_decay=1e-4,
    batch_size=256,
)


@pytest.fixture(scope="module")
def task() -> ImageTask:
    return ImageTask(device="cpu")


@pytest.fixture(scope="module")
def trainer(task: ImageTask) -> ImageTrainer:
    return ImageTrainer(task.split, CPU)


def test_stratified_split_is_disjoint_stratified_and_fixed() -> None:
    labels = np.repeat(np.arange(3), [10, 20, 50])
    train, val, test = stratified_split(labels, seed=0)
    assert sorted(np.concatenate([train, val, test])) == list(range(len(labels)))
    for part, share in ((train, 0.6), (val, 0.2), (test, 0.2)):
        assert list(np.bincount(labels[part])) == [round(share * n) for n in (10, 20, 50)]
        assert list(part) == sorted(part)
    again = stratified_split(labels, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    assert not np.array_equal(stratified_split(labels, seed=1)[1], val)


def test_digits_split_is_the_published_one(task: ImageTask) -> None:
    split = task.split
    assert split.images.shape == (1797, 1, 8, 8) and split.images.dtype == np.float32
    assert (len(split.train), len(split.val), len(split.test)) == (1079, 359, 359)
    assert split.n_classes == 10
    for part in (split.val, split.test):  # every class 17-18% of 359 (35-37 images)
        assert set(np.bincount(split.labels[part])) <= {35, 36, 37}
    # Recorded curves and references depend on these exact indices: changing the split (or
    # numpy changing its Generator stream) must be noticed.
    indices = np.concatenate([split.train, split.val, split.test]).astype(np.int64)
    assert hashlib.sha256(indices.tobytes()).hexdigest()[:16] == "2cd5c8345fae5e09"


def test_scaling_is_fitted_on_train_only() -> None:
    images = np.array([0.0, 2.0, 100.0, -50.0]).reshape(4, 1, 1, 1)
    scaled = scale_images(images, train=np.array([0, 1]))
    assert scaled.ravel().tolist() == [-1.0, 1.0, 99.0, -51.0]  # mean 1, std 1 of the train part


def test_metrics_match_hand_computed_values_and_sklearn() -> None:
    # 4 classes, class 3 never occurs; the second row ties between classes 0 and 1.
    proba = np.array(
        [[0.7, 0.1, 0.1, 0.1], [0.4, 0.4, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.2, 0.5, 0.2, 0.1]]
    )
    labels = np.array([0, 0, 1, 2])
    metrics = classification_metrics(torch.as_tensor(np.log(proba)), torch.as_tensor(labels))
    assert tuple(metrics) == NAMES
    # predictions [0, 0, 1, 1] (first class on ties): F1 per class 1, 2/3, 0 (class 3 absent)
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    expected_ce = -(math.log(0.7) + math.log(0.4) + math.log(0.6) + math.log(0.2)) / 4
    assert metrics["cross_entropy"] == pytest.approx(expected_ce)

    predicted = proba.argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    assert metrics["cross_entropy"] == pytest.approx(log_loss(labels, proba, labels=range(4)))


def test_metrics_on_random_logits_match_sklearn_and_take_given_predictions() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 5))
    labels = rng.integers(0, 5, size=50)
    predicted = rng.integers(0, 5, size=50)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    metrics = classification_metrics(
        torch.as_tensor(logits), torch.as_tensor(labels), torch.as_tensor(predicted)
    )
    assert metrics["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    assert metrics["cross_entropy"] == pytest.approx(log_loss(labels, proba, labels=range(5)))


def test_space_conditions_hold_for_sampled_configurations(task: ImageTask) -> None:
    space = task.space
    space.seed(0)
    for config in space.sample_configuration(200):
        config.check_valid_configuration()
        values = plain_config(config)
        assert ("channels_2" in values) == (values["blocks"] >= 2)
        assert ("channels_3" in values) == (values["blocks"] == 3)
        assert len(ImageConfig(**values).channels) == values["blocks"]


@pytest.mark.parametrize("channels", [8, 64])
def test_every_architecture_builds_and_runs_on_8x8_input(channels: int) -> None:
    """Every combination of the architecture choices, at both channel bounds."""
    x = torch.randn(2, 1, 8, 8)
    for blocks, pooling, batch_norm, kernel, activation in itertools.product(
        (1, 2, 3), ("max", "avg", "none"), (True, False), (3, 5), ("relu", "gelu", "silu")
    ):
        config = replace(
            SMALL,
            blocks=blocks,
            channels_1=channels,
            channels_2=channels if blocks >= 2 else None,
            channels_3=channels if blocks == 3 else None,
            pooling=pooling,
            batch_norm=batch_norm,
            kernel_size=kernel,
            activation=activation,
            dense_width=256 if channels == 64 else 16,
        )
        assert build_cnn(config, (1, 8, 8), 10)(x).shape == (2, 10), config


def test_bad_configurations_are_refused(trainer: ImageTrainer) -> None:
    with pytest.raises(ValueError, match="channels_2"):
        build_cnn(replace(SMALL, blocks=2), (1, 8, 8), 10)
    with pytest.raises(ValueError, match="pooling"):
        build_cnn(replace(SMALL, pooling="median"), (1, 8, 8), 10)
    with pytest.raises(ValueError, match="optimizer"):
        trainer.run(replace(SMALL, optimizer="lbfgs"), 1, 0)
    with pytest.raises(ValueError, match="batch_size"):
        trainer.run(replace(SMALL, batch_size=5000), 1, 0)
    with pytest.raises(ValueError, match=r"epochs must be in 1\.\.27, got 0"):
        ImageTask(device="cpu").evaluate(ImageTask().space.get_default_configuration(), 0, 0)


def _check(result: Result, epochs: int) -> None:
    assert len(result.curve) == len(result.epoch_seconds) == result.epochs == epochs
    assert tuple(result.val) == tuple(result.test or {}) == NAMES
    assert result.is_finite() and result.curve[-1] == result.val["accuracy"]
    for metrics in (result.val, result.test or {}):
        assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["macro_f1"] <= 1
        assert metrics["cross_entropy"] >= 0
    assert all(0 <= v <= 1 for v in result.curve)
    assert result.seconds >= sum(result.epoch_seconds) > 0


def test_training_is_deterministic_and_a_prefix_of_longer_training(
    trainer: ImageTrainer,
) -> None:
    five = trainer.run(SMALL, 5, seed=3)
    _check(five, 5)
    again = trainer.run(SMALL, 5, seed=3)
    assert (again.curve, again.val, again.test) == (five.curve, five.val, five.test)
    assert again.extra["train_loss"] == five.extra["train_loss"]
    three = trainer.run(SMALL, 3, seed=3)
    assert three.curve == five.curve[:3]
    assert three.extra["train_loss"] == five.extra["train_loss"][:3]
    other = trainer.run(SMALL, 3, seed=4)
    assert other.extra["train_loss"] != three.extra["train_loss"]
    assert five.curve[-1] > 0.5  # it learns: 10 classes, chance is 0.1


def test_non_finite_loss_raises(task: ImageTask) -> None:
    split = task.split
    images = split.images.copy()
    images[split.train[0]] = np.nan
    broken = ImageSplit(images, split.labels, split.train, split.val, split.test, 10)
    with pytest.raises(FloatingPointError):
        ImageTrainer(broken, CPU).run(SMALL, 1, 0)


def test_task_contract(task: ImageTask) -> None:
    assert (task.name, task.metric, task.maximize, task.min_epochs, task.max_epochs) == (
        "image",
        "accuracy",
        True,
        1,
        27,
    )
    fresh = make_task("image", max_epochs=9, device="cpu", data_dir="ignored")
    assert isinstance(fresh, ImageTask) and fresh.max_epochs == 9
    assert pickle.loads(pickle.dumps(fresh))._split is None  # picklable before first use
    space = task.space
    space.seed(1)
    config = space.sample_configuration()  # values are numpy scalars
    _check(task.evaluate(config, 1, 0), 1)
    revived = pickle.loads(pickle.dumps(task))
    assert revived._split is None and revived._trainer is None  # caches stay behind


def test_references_are_tuned_and_sane(task: ImageTask) -> None:
    rows = task.references()
    assert set(rows) == {"logistic-regression", "svm-rbf"}
    for row in rows.values():
        assert tuple(row["val"]) == tuple(row["test"]) == NAMES and row["note"]
        for metrics in (row["val"], row["test"]):
            assert 0.9 < metrics["accuracy"] <= 1 and 0.9 < metrics["macro_f1"] <= 1
            assert 0 < metrics["cross_entropy"] < 1
    assert rows["svm-rbf"]["val"]["accuracy"] >= rows["logistic-regression"]["val"]["accuracy"]


def test_cli_smoke_run(tmp_path) -> None:
    args = ["--task", "image", "--strategies", "random", "--budget", "1", "--seeds", "1"]
    out = tmp_path / "run"
    assert bench_main([*args, "--max-epochs", "2", "--out", str(out), "--quiet"]) == 0
    assert "svm-rbf" in (out / "leaderboard.md").read_text()


def test_the_data_card_describes_the_digits_not_movielens(task: ImageTask) -> None:
    card = task.data_card()
    assert "digits" in card and "MovieLens" not in card
    assert "1,079 train / 359 validation / 359 test images" in card
