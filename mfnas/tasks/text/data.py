"""The 20 Newsgroups split and its token table: the bydate training set cut stratified into
train and validation, the bydate test set as the test part, tokens ranked on train only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from mfnas.data.newsgroups import Corpus
from mfnas.tasks.image.data import stratified_subset

#: The longest document prefix any configuration reads (the space's largest ``max_tokens``).
MAX_TOKENS = 128
#: The rank of a token that never occurs in the train part (past every vocabulary size).
UNSEEN = np.iinfo(np.int32).max
PAD = -1


@dataclass(frozen=True, eq=False)
class TextSplit:
    """Documents as token ranks with a fixed train/validation/test split.

    ``ranks`` is int32 ``(n, MAX_TOKENS)``: row ``i`` holds document ``i``'s first tokens
    (whitespace-separated words), each as its rank in ``vocabulary`` (0 = the most frequent in
    the train part), ``UNSEEN`` for a word the train part never has, ``PAD`` past the
    document's end. ``labels`` is int64 ``(n,)`` in ``0..len(groups)-1``; ``train``, ``val``
    and ``test`` are disjoint sorted index arrays into both. ``vocabulary`` lists the train
    part's words by decreasing count (ties alphabetically): the tokenizer and vocabulary come
    from the train part only.
    """

    ranks: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    groups: tuple[str, ...]
    vocabulary: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.groups)


def tokens(text: str) -> list[str]:
    """The words of a preprocessed document (lower-cased letters separated by spaces)."""
    return text.split()


def text_split(corpus: Corpus, n_val: int, seed: int = 0) -> TextSplit:
    """``corpus``'s training documents cut into train and ``n_val`` validation documents,
    stratified by group with ``seed`` (``stratified_subset``), and its test documents; the
    vocabulary counted on the train part. Documents are in the order train set, test set."""
    rows = [*corpus.train, *corpus.test]
    index = {group: i for i, group in enumerate(corpus.groups)}
    labels = np.array([index[label] for label, _ in rows], dtype=np.int64)
    n_fit = len(corpus.train)
    train, val = stratified_subset(labels[:n_fit], n_fit - n_val, n_val, seed)
    words = [tokens(text) for _, text in rows]
    counts = Counter(word for i in train for word in words[i])
    vocabulary = tuple(sorted(counts, key=lambda word: (-counts[word], word)))
    rank_of = {word: rank for rank, word in enumerate(vocabulary)}
    ranks = np.full((len(rows), MAX_TOKENS), PAD, dtype=np.int32)
    for i, doc in enumerate(words):
        head = doc[:MAX_TOKENS]
        ranks[i, : len(head)] = [rank_of.get(word, UNSEEN) for word in head]
    test = np.arange(n_fit, len(rows))
    return TextSplit(ranks, labels, train, val, test, corpus.groups, vocabulary)


def token_ids(ranks: np.ndarray, vocab_size: int, max_tokens: int) -> np.ndarray:
    """The model's input ids of ``ranks`` for a vocabulary of the ``vocab_size`` most frequent
    train words, read up to ``max_tokens``: 0 pads, 1 is any other word, ``2 + rank`` a word
    in the vocabulary."""
    head = ranks[:, :max_tokens].astype(np.int64)
    return np.where(head == PAD, 0, np.where(head < vocab_size, head + 2, 1))
