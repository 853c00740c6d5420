"""The text task (20 Newsgroups topic classification; CNN, RNN and transformer encoders)."""

from mfnas.tasks.text.data import TextSplit, text_split
from mfnas.tasks.text.model import TextClassifier, TextConfig
from mfnas.tasks.text.task import N_VAL, TextTask
from mfnas.tasks.text.train import TextTrainer

__all__ = [
    "N_VAL",
    "TextClassifier",
    "TextConfig",
    "TextSplit",
    "TextTask",
    "TextTrainer",
    "text_split",
]
