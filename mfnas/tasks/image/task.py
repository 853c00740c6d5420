"""The image task: a CNN on scikit-learn's 8x8 handwritten digits, epochs as fidelity."""

from __future__ import annotations

from typing import Any

from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.spaces import plain_config
from mfnas.tasks.base import Result, TrainedTask
from mfnas.tasks.device import resolve_device
from mfnas.tasks.image.data import ImageSplit, load_digits_split
from mfnas.tasks.image.model import ImageConfig
from mfnas.tasks.image.train import OBJECTIVE, ImageTrainer


class ImageTask(TrainedTask):
    """10-class digit classification; the objective is validation accuracy.

    The data are scikit-learn's bundled digits (offline), split 60/20/20 stratified with
    ``split_seed``. The constructor only stores its parameters; the split and the device are
    set up on first use and cached, and left out when the task is pickled (a worker rebuilds
    them).
    """

    name = "image"
    metric = OBJECTIVE
    direction = Direction.MAXIMIZE
    min_epochs = 1
    max_epochs = 27

    cached = ("_split", "_trainer")
    _split: ImageSplit | None
    _trainer: ImageTrainer | None

    @property
    def split(self) -> ImageSplit:
        """The train/validation/test split (loaded and cut on first use)."""
        if self._split is None:
            self._split = load_digits_split(self.split_seed)
        return self._split

    def data_card(self) -> str:
        split = self.split
        return (
            f"scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes); stratified "
            f"60/20/20 split, split seed {self.split_seed}: {len(split.train):,} train / "
            f"{len(split.val):,} validation / {len(split.test):,} test images."
        )

    def references(self) -> dict[str, dict[str, Any]]:
        """Tuned logistic regression and RBF SVM on this task's split (see ``reference.py``)."""
        from mfnas.tasks.image.reference import reference_rows

        return reference_rows(self.split)

    def _evaluate(self, config: Configuration, epochs: int, seed: int) -> Result:
        if self._trainer is None:
            self._trainer = ImageTrainer(self.split, resolve_device(self.device))
        return self._trainer.run(ImageConfig(**plain_config(config)), int(epochs), int(seed))
