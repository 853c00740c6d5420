"""The Fashion-MNIST split: a fixed stratified subset of the 60,000 training images for train
and validation, the 10,000 official test images as the test part."""

from __future__ import annotations

import numpy as np

from mfnas.data.fashion_mnist import FashionMNIST
from mfnas.tasks.image.data import ImageSplit, pixel_stats, scale_images, stratified_subset


def fashion_split(data: FashionMNIST, n_train: int, n_val: int, seed: int = 0) -> ImageSplit:
    """An ``ImageSplit`` of ``n_train`` train and ``n_val`` validation images drawn stratified
    from ``data``'s training images by ``stratified_subset`` with ``seed``, and all its test
    images; pixels scaled by the train part's mean and std (``scale_images``).

    ``images`` holds only those images, in the order train, validation, test (so ``train``,
    ``val`` and ``test`` are consecutive ranges).
    """
    train, val = stratified_subset(data.train_labels, n_train, n_val, seed)
    images = np.concatenate([data.train_images[train], data.train_images[val], data.test_images])
    labels = np.concatenate([data.train_labels[train], data.train_labels[val], data.test_labels])
    n_fit, n_test = len(train) + len(val), len(data.test_labels)
    index = np.arange(n_fit + n_test)
    train_part = index[: len(train)]
    return ImageSplit(
        images=scale_images(images[:, None], train_part),
        labels=labels.astype(np.int64),
        train=train_part,
        val=index[len(train) : n_fit],
        test=index[n_fit:],
        n_classes=int(labels.max()) + 1,
        pixel_scale=pixel_stats(images, train_part),
    )
