"""The searched text classifiers: an embedding, one encoder family (none: a bag of embeddings as
in fastText; a CNN with several kernel sizes; a bidirectional GRU or LSTM; a small transformer
encoder), a masked pooling over the tokens, dropout and a linear layer to the classes. Padding
(id 0) is masked everywhere."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ENCODERS = ("bag", "cnn", "gru", "lstm", "transformer")
POOLINGS = ("max", "mean")


@dataclass(frozen=True)
class TextConfig:
    """The hyperparameters of ``spaces/text.yaml`` as plain Python values; the encoder's own
    ones are set only for that encoder (ConfigSpace leaves inactive parameters out)."""

    encoder: str
    embedding_dim: int
    vocab_size: int
    pooling: str
    dropout: float
    optimizer: str
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_tokens: int | None = None  # bag, cnn, transformer: the first tokens read
    rnn_tokens: int | None = None  # gru, lstm: the first tokens read (fewer: a GRU costs more)
    kernel_sizes: str | None = None  # cnn: e.g. "3-5"
    filters: int | None = None  # cnn: per kernel size
    hidden_size: int | None = None  # gru, lstm: per direction
    rnn_layers: int | None = None
    tf_layers: int | None = None  # transformer
    heads: int | None = None
    ff_width: int | None = None

    @property
    def tokens(self) -> int:
        """How many of a document's first tokens the model reads (``rnn_tokens`` for the
        recurrent encoders, ``max_tokens`` for the others); ValueError when it is not set."""
        return int(self.require("rnn_tokens" if self.encoder in ("gru", "lstm") else "max_tokens"))

    def require(self, name: str) -> int | str:
        """The conditional hyperparameter ``name``; ValueError when it is not set."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"encoder {self.encoder!r} needs {name}")
        return value


class _Bag(nn.Module):
    """No encoder: the pooling reads the embeddings themselves (fastText's bag of words)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.width = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


class _Convolutions(nn.Module):
    """One ReLU convolution per kernel size over the tokens, concatenated features."""

    def __init__(self, dim: int, kernel_sizes: tuple[int, ...], filters: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, k, padding="same") for k in kernel_sizes)
        self.width = filters * len(kernel_sizes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)
        return torch.cat([torch.relu(conv(x)) for conv in self.convs], dim=1).transpose(1, 2)


class _Recurrent(nn.Module):
    """A bidirectional GRU or LSTM over each document's real tokens (packed)."""

    def __init__(self, kind: str, dim: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        rnn = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = rnn(
            dim, hidden, layers, batch_first=True, bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )  # fmt: skip
        self.width = 2 * hidden

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(dim=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


class _Transformer(nn.Module):
    """Learned positions, then a pre-norm transformer encoder with padding masked."""

    def __init__(
        self, dim: int, layers: int, heads: int, ff_width: int, dropout: float, max_tokens: int
    ) -> None:
        super().__init__()
        self.positions = nn.Embedding(max_tokens, dim)
        layer = nn.TransformerEncoderLayer(
            dim, heads, ff_width, dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.width = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.positions.weight[: x.shape[1]]
        return self.encoder(x, src_key_padding_mask=~mask)


class TextClassifier(nn.Module):
    """Token ids ``(B, T)`` -> class logits ``(B, classes)``."""

    def __init__(self, config: TextConfig, n_classes: int) -> None:
        super().__init__()
        if config.encoder not in ENCODERS or config.pooling not in POOLINGS:
            raise ValueError(f"unknown encoder {config.encoder!r} or pooling {config.pooling!r}")
        dim = config.embedding_dim
        self.embedding = nn.Embedding(config.vocab_size + 2, dim, padding_idx=0)
        if config.encoder == "bag":
            self.encoder: nn.Module = _Bag(dim)
        elif config.encoder == "cnn":
            sizes = tuple(int(k) for k in str(config.require("kernel_sizes")).split("-"))
            self.encoder = _Convolutions(dim, sizes, int(config.require("filters")))
        elif config.encoder in ("gru", "lstm"):
            hidden, layers = int(config.require("hidden_size")), int(config.require("rnn_layers"))
            self.encoder = _Recurrent(config.encoder, dim, hidden, layers, config.dropout)
        else:
            self.encoder = _Transformer(
                dim,
                int(config.require("tf_layers")),
                int(config.require("heads")),
                int(config.require("ff_width")),
                config.dropout,
                config.tokens,
            )
        self.pooling = config.pooling
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(self.encoder.width, n_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != 0
        features = self.encoder(self.dropout(self.embedding(ids)), mask)
        keep = mask.unsqueeze(-1)
        if self.pooling == "max":
            pooled = features.masked_fill(~keep, float("-inf")).amax(dim=1)
        else:
            pooled = (features * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1)
        return self.head(self.dropout(pooled))
