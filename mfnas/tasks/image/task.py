"""The image tasks: a CNN (``model.py``) trained on an image split, epochs as fidelity.

``CnnTask`` is what every image-classification task shares (the objective, the lazily built
split and trainer, the evaluation); ``ImageTask`` is the one on scikit-learn's 8x8 digits.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.spaces import plain_config
from mfnas.tasks.base import Checkpoint, Result, TrainedTask
from mfnas.tasks.device import resolve_device
from mfnas.tasks.image.data import ImageSplit, load_digits_split
from mfnas.tasks.image.model import ImageConfig
from mfnas.tasks.image.train import OBJECTIVE, ImageTrainer


class CnnTask(TrainedTask):
    """An image-classification task searching the CNNs of ``model.py``; the objective is
    validation accuracy (macro-F1 and cross-entropy reported too).

    Subclasses set ``name`` (their space is ``spaces/<name>.yaml``, over ``ImageConfig``'s
    hyperparameters), ``max_epochs`` and ``load_split``. The constructor only stores its
    parameters; the split and the trainer are built on first use and cached, and left out
    when the task is pickled (a worker rebuilds them).
    """

    metric = OBJECTIVE
    direction = Direction.MAXIMIZE
    min_epochs = 1
    max_epochs = 27
    #: Each label's name, and the range of the raw pixels (what a served model is sent).
    class_names: tuple[str, ...]
    pixel_range: tuple[float, float]

    cached = ("_split", "_trainer")
    _split: ImageSplit | None
    _trainer: ImageTrainer | None

    @abstractmethod
    def load_split(self) -> ImageSplit:
        """Load the data and cut the train/validation/test split (called once, on first use)."""

    @property
    def split(self) -> ImageSplit:
        """The train/validation/test split (loaded and cut on first use)."""
        if self._split is None:
            self._split = self.load_split()
        return self._split

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        if self._trainer is None:
            self._trainer = ImageTrainer(self.split, resolve_device(self.device))
        image_config = ImageConfig(**plain_config(config))
        return self._trainer.run(image_config, int(epochs), int(seed), start)


class ImageTask(CnnTask):
    """10-class digit classification on scikit-learn's bundled digits (offline), split
    60/20/20 stratified with ``split_seed``."""

    name = "image"
    class_names = tuple(str(digit) for digit in range(10))
    reference_modules = ("mfnas.tasks.image.reference", "mfnas.tasks.image.metrics")
    pixel_range = (0.0, 16.0)

    def load_split(self) -> ImageSplit:
        return load_digits_split(self.split_seed)

    def data_card(self) -> str:
        split = self.split
        return (
            f"scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes); stratified "
            f"60/20/20 split, split seed {self.split_seed}: {len(split.train):,} train / "
            f"{len(split.val):,} validation / {len(split.test):,} test images."
        )

    def _references(self) -> dict[str, dict[str, Any]]:
        """Tuned logistic regression and RBF SVM on this task's split (see ``reference.py``)."""
        from mfnas.tasks.image.reference import reference_rows

        return reference_rows(self.split)
