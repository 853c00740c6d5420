"""Training a CNN on an image split with whole-split tensors on the device."""

from __future__ import annotations

import torch
from torch import nn

from mfnas.tasks.classifier import OBJECTIVE, ClassifierTrainer, Parts
from mfnas.tasks.image.data import ImageSplit
from mfnas.tasks.image.model import ImageConfig, build_cnn

__all__ = ["OBJECTIVE", "ImageTrainer"]


class ImageTrainer(ClassifierTrainer):
    """Trains CNN configurations on one image split and device (``ClassifierTrainer.run``).

    Built once per (split, device) and reused: it keeps the train, validation and test images
    and labels on the device as whole tensors.
    """

    def __init__(self, split: ImageSplit, device: torch.device) -> None:
        super().__init__(device)
        self.split = split
        images = torch.as_tensor(split.images)
        labels = torch.as_tensor(split.labels)
        self._parts = {
            name: (images[index].to(device), labels[index].to(device))
            for name, index in (("train", split.train), ("val", split.val), ("test", split.test))
        }

    def parts(self, config: ImageConfig) -> Parts:
        return self._parts

    def build(self, config: ImageConfig, parts: Parts) -> nn.Module:
        """The CNN of ``config``; ValueError for an unknown activation or pooling."""
        return build_cnn(config, tuple(parts["train"][0].shape[1:]), self.split.n_classes)
