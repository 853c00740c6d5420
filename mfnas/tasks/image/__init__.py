"""The image task (scikit-learn's 8x8 handwritten digits, CNN architecture + training search)."""

from mfnas.tasks.image.data import ImageSplit, load_digits_split, stratified_split
from mfnas.tasks.image.metrics import classification_metrics
from mfnas.tasks.image.model import ImageConfig, build_cnn
from mfnas.tasks.image.task import ImageTask
from mfnas.tasks.image.train import ImageTrainer

__all__ = [
    "ImageConfig",
    "ImageSplit",
    "ImageTask",
    "ImageTrainer",
    "build_cnn",
    "classification_metrics",
    "load_digits_split",
    "stratified_split",
]
