"""The fashion task: the image task's CNNs on Fashion-MNIST (28x28), epochs as fidelity."""

from __future__ import annotations

from typing import Any

from mfnas.tasks.fashion.data import fashion_split
from mfnas.tasks.image.data import ImageSplit
from mfnas.tasks.image.reference import ReferenceSetup
from mfnas.tasks.image.task import CnnTask

#: The fixed stratified subset of the 60,000 training images (see the README's fashion task:
#: one epoch of the default CNN on 10,000 images takes ~4-5 s on one thread, on 50,000 ~20 s).
N_TRAIN, N_VAL = 10_000, 5_000

#: The references' grids and subsets, bounded to about a minute on one thread: an RBF SVM's
#: fit and prediction grow with its support vectors, so it is fitted on 2,000 images.
REFERENCES = ReferenceSetup(
    logistic_c=(0.003, 0.01, 0.03),
    svm_c=(3.0, 10.0),
    svm_gamma=(0.001, 0.003),  # the scaled pixels have unit variance: 1/784 ~ 0.0013
    logistic_train=5_000,
    svm_train=2_000,
)


class FashionTask(CnnTask):
    """10-class clothing classification on Fashion-MNIST; the objective is validation accuracy.

    The data come from ``mfnas.data.fashion_mnist.load_fashion_mnist`` (``data_dir``, then
    ``MFNAS_FASHION_DIR``, the cache, the official download, the Debian package), verified by
    checksum. ``N_TRAIN`` train and ``N_VAL`` validation images are drawn stratified from the
    60,000 training images with ``split_seed``; the 10,000 official test images are the test
    part. The reference rows are computed once per task object and kept in memory.
    """

    name = "fashion"
    class_names = (
        *("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"),
        *("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    )
    pixel_range = (0.0, 255.0)
    reference_modules = (
        "mfnas.tasks.image.reference",
        "mfnas.tasks.image.metrics",
        "mfnas.tasks.fashion.task",
    )

    def load_split(self) -> ImageSplit:
        from mfnas.data.fashion_mnist import load_fashion_mnist

        return fashion_split(load_fashion_mnist(self.data_dir), N_TRAIN, N_VAL, self.split_seed)

    def data_card(self) -> str:
        split = self.split
        return (
            f"Fashion-MNIST (Zalando, MIT licence; 28x28 grey images, 10 classes): a stratified "
            f"subset of {len(split.train):,} train / {len(split.val):,} validation images of the "
            f"60,000 training images (split seed {self.split_seed}), and the "
            f"{len(split.test):,} official test images as the test split."
        )

    def _references(self) -> dict[str, dict[str, Any]]:
        """Tuned logistic regression and RBF SVM on this task's split (``REFERENCES``), with
        scikit-learn's native thread pools held to one thread."""
        from threadpoolctl import threadpool_limits

        from mfnas.tasks.image.reference import reference_rows

        with threadpool_limits(1):
            return reference_rows(self.split, REFERENCES)
