"""Training a text classifier on the 20 Newsgroups split with whole-split tensors on the device."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from mfnas.tasks.classifier import OBJECTIVE, ClassifierTrainer, Parts
from mfnas.tasks.text.data import MAX_TOKENS, TextSplit, token_ids
from mfnas.tasks.text.model import TextClassifier, TextConfig

__all__ = ["OBJECTIVE", "TextTrainer"]

_INPUTS_KEPT = 4  # (vocabulary size, max tokens) input tables kept on the device


class TextTrainer(ClassifierTrainer):
    """Trains text configurations on one split and device (``ClassifierTrainer.run``). The
    input ids depend on a configuration's vocabulary size and document length; the tables of
    the last few are kept on the device."""

    def __init__(self, split: TextSplit, device: torch.device) -> None:
        super().__init__(device)
        self.split = split
        self._labels = {
            name: torch.as_tensor(split.labels[index]).to(device)
            for name, index in (("train", split.train), ("val", split.val), ("test", split.test))
        }
        self._inputs: OrderedDict[tuple[int, int], Parts] = OrderedDict()

    def parts(self, config: TextConfig) -> Parts:
        if not 1 <= config.tokens <= MAX_TOKENS:
            raise ValueError(f"the tokens read must be 1..{MAX_TOKENS}, got {config.tokens}")
        key = (config.vocab_size, config.tokens)
        if key not in self._inputs:
            split = self.split
            ids = token_ids(split.ranks, *key)
            self._inputs[key] = {
                name: (torch.as_tensor(ids[index]).to(self.device), self._labels[name])
                for name, index in (
                    ("train", split.train),
                    ("val", split.val),
                    ("test", split.test),
                )
            }
            while len(self._inputs) > _INPUTS_KEPT:
                self._inputs.popitem(last=False)
        self._inputs.move_to_end(key)
        return self._inputs[key]

    def build(self, config: TextConfig, parts: Parts) -> nn.Module:
        """The classifier of ``config``; ValueError for an unknown encoder or pooling, or a
        missing conditional hyperparameter."""
        return TextClassifier(config, self.split.n_classes)
