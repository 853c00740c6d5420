"""The fashion task (Fashion-MNIST, 28x28 clothing images; the image task's CNN search)."""

from mfnas.tasks.fashion.data import fashion_split
from mfnas.tasks.fashion.task import N_TRAIN, N_VAL, FashionTask

__all__ = ["N_TRAIN", "N_VAL", "FashionTask", "fashion_split"]
