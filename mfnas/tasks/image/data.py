"""scikit-learn's handwritten digits, split stratified 60/20/20 with pixels scaled on train."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATIOS = (0.6, 0.2, 0.2)


@dataclass(frozen=True, eq=False)
class ImageSplit:
    """Images with a fixed train/validation/test split.

    ``images`` is float32 ``(n, 1, height, width)``, scaled by the mean and standard deviation
    of the training pixels (one scalar each, fitted on ``train`` only); ``labels`` is int64
    ``(n,)`` in ``0..n_classes-1``. ``train``, ``val`` and ``test`` are disjoint sorted index
    arrays into both. ``pixel_scale`` is the (mean, std) the raw pixels were scaled by (what a
    served model applies to the images it is sent).
    """

    images: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    n_classes: int
    pixel_scale: tuple[float, float] = (0.0, 1.0)


def stratified_split(
    labels: np.ndarray, seed: int = 0, ratios: tuple[float, float, float] = RATIOS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted train/validation/test index arrays, stratified by ``labels``.

    Each class's indices are shuffled with ``numpy.random.default_rng(seed)`` (one generator,
    classes in sorted order) and cut: ``round(share * n_class)`` to test, the same rule to
    validation, the rest to train. The same labels and ``seed`` always give the same split.
    """
    labels = np.asarray(labels)
    total = sum(ratios)
    rng = np.random.default_rng(seed)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(ratios[2] / total * len(members))
        n_val = round(ratios[1] / total * len(members))
        cut = len(members) - n_val - n_test
        for part, rows in zip(parts, np.split(members, [cut, cut + n_val]), strict=True):
            part.append(rows)
    train, val, test = (np.sort(np.concatenate(part)) for part in parts)
    return train, val, test


def stratified_subset(
    labels: np.ndarray, n_first: int, n_second: int = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted, disjoint index arrays into ``labels`` of about ``n_first`` and ``n_second``
    rows, both stratified by ``labels``; the other rows are left out.

    ``stratified_split`` with shares ``(n_first, n_second, rest)``: each class gives
    ``round(share * n_class)`` to the second part and to the rest, the remainder to the first,
    so the sizes are exact when every class's shares are whole (Fashion-MNIST's 6,000 images a
    class, cut 10,000 / 5,000 of 60,000) and within a few rows otherwise. The same labels,
    sizes and ``seed`` always give the same parts. Raises ValueError unless ``n_first > 0``,
    ``n_second >= 0`` and ``n_first + n_second <= len(labels)``.
    """
    rest = len(labels) - n_first - n_second
    if n_first <= 0 or n_second < 0 or rest < 0:
        raise ValueError(f"cannot take {n_first} + {n_second} of {len(labels)} rows")
    first, second, _ = stratified_split(labels, seed, (n_first, n_second, rest))
    return first, second


def pixel_stats(images: np.ndarray, train: np.ndarray) -> tuple[float, float]:
    """The mean and standard deviation of the training images' pixels."""
    fitted = images[train].astype(np.float64)
    return float(fitted.mean()), float(fitted.std())


def scale_images(images: np.ndarray, train: np.ndarray) -> np.ndarray:
    """``images`` as float32 minus the training pixels' mean, divided by their std."""
    mean, std = pixel_stats(images, train)
    return ((images - mean) / std).astype(np.float32)


def load_digits_split(seed: int = 0) -> ImageSplit:
    """scikit-learn's bundled digits (1,797 8x8 images, 10 classes), split 60/20/20 by ``seed``."""
    from sklearn.datasets import load_digits  # imported on first use: keeps imports light

    digits = load_digits()
    labels = digits.target.astype(np.int64)
    train, val, test = stratified_split(labels, seed)
    images = scale_images(digits.images[:, None], train)
    scale = pixel_stats(digits.images, train)
    return ImageSplit(images, labels, train, val, test, int(labels.max()) + 1, scale)
