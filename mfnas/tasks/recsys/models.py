"""Implicit-feedback recommenders: MF, GMF, MLP, NeuMF (NCF family) and LightGCN (the
autoencoders over a user's item vector are in ``autoencoders.py``).

Every model maps users and items to scores (logits) through two methods:

- ``score_pairs(users, items)``: ``users`` has shape ``(B,)`` and ``items`` ``(B,)`` or
  ``(B, m)`` (``m`` items per user, e.g. a positive and its negatives); the result has the shape
  of ``items``.
- ``score_all(users)``: the ``(len(users), n_items)`` scores of every item, for full ranking.

Embeddings start from N(0, ``init_std``); linear layers keep PyTorch's default initialisation.
Rows are gathered with ``F.embedding``, whose backward is much faster on CPU than indexing's.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from itertools import pairwise
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mfnas.tasks.config_view import ConfigView
from mfnas.tasks.recsys.config import RecsysConfig

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}
# Hidden values per chunk when scoring every (user, item) pair: cache-sized chunks rank 3x
# faster than 1 << 24 on CPU (measured; scores equal to ~1e-8).
_TOWER_CHUNK = 1 << 18


def _embedding(n: int, dim: int, init_std: float) -> nn.Embedding:
    """An ``n x dim`` embedding table drawn from N(0, init_std)."""
    table = nn.Embedding(n, dim)
    nn.init.normal_(table.weight, 0.0, init_std)
    return table


def _per_item(user_rows: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """``user_rows`` (B, ...) with an item axis added when ``items`` is (B, m)."""
    return user_rows.unsqueeze(1) if items.dim() == 2 else user_rows


def _dot(user_rows: torch.Tensor, item_table: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """``user_rows[b] . item_table[items[b, ...]]`` for (B, d) user rows and (B,) or (B, m) items.

    With many items per user, one product against every item and a column pick beats gathering
    (B, m, d) item rows: on CPU the two cost the same near m = n_items / 64 (measured).
    """
    if items.dim() == 2 and items.shape[1] * 64 > item_table.shape[0]:
        return (user_rows @ item_table.T).gather(1, items)
    return (_per_item(user_rows, items) * F.embedding(items, item_table)).sum(-1)


def _project(table: torch.Tensor, weight: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index] @ weight.T``, projecting the whole table first when that is cheaper."""
    if index.numel() > table.shape[0]:
        return F.embedding(index, table @ weight.T)
    return F.embedding(index, table) @ weight.T


class Recommender(nn.Module, ABC):
    """Base class of the models; see the module docstring for the scoring contract."""

    @abstractmethod
    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of ``items`` (B,) or (B, m) for ``users`` (B,), shaped like ``items``."""

    @abstractmethod
    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for ``users``: shape ``(len(users), n_items)``."""


class MF(Recommender):
    """Matrix factorisation: the dot product of a user and an item embedding."""

    def __init__(self, n_users: int, n_items: int, dim: int, init_std: float) -> None:
        super().__init__()
        self.users = _embedding(n_users, dim, init_std)
        self.items = _embedding(n_items, dim, init_std)

    def tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The user and item vectors whose dot products are the scores."""
        return self.users.weight, self.items.weight

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        user_table, item_table = self.tables()
        return _dot(F.embedding(users, user_table), item_table, items)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        user_table, item_table = self.tables()
        return F.embedding(users, user_table) @ item_table.T


class _Propagate(torch.autograd.Function):
    """``graph @ x`` for a sparse CSR ``graph``, differentiable in ``x`` only.

    The backward product uses ``graph_t``, the same graph transposed and kept in CSR, so no
    transposition happens per batch.
    """

    @staticmethod
    def forward(graph: torch.Tensor, graph_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return graph @ x

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        ctx.graph_t = inputs[1]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, None, torch.Tensor]:
        return None, None, ctx.graph_t @ grad


def _csr(
    rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
) -> torch.Tensor:
    """The sparse CSR matrix with ``values`` at (``rows``, ``cols``); pairs must be unique.

    Indices are int32, which CPU products use without converting them on every call.
    """
    order = torch.argsort(rows * shape[1] + cols)
    counts = torch.bincount(rows, minlength=shape[0])
    crow = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).int()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used is not
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            crow, cols[order].int(), values[order], shape, check_invariants=True
        )


class LightGCN(MF):
    """LightGCN: MF on the mean of ``layers`` + 1 propagations over the user-item graph.

    The graph is the symmetric-normalised bipartite train graph, entries
    ``1 / sqrt(deg(u) * deg(i))``, kept as sparse CSR matrices in both orientations: on
    MovieLens-100K (6% dense) a CSR product is 2-5x faster on CPU than the dense one at
    embedding sizes up to 128 (measured; COO products are slower than dense).
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        dim: int,
        init_std: float,
        layers: int,
        train: np.ndarray,
    ) -> None:
        super().__init__(n_users, n_items, dim, init_std)
        self.layers = layers
        pairs = torch.as_tensor(np.unique(train[:, :2], axis=0), dtype=torch.long)
        users, items = pairs[:, 0], pairs[:, 1]
        user_deg = torch.bincount(users, minlength=n_users).float()
        item_deg = torch.bincount(items, minlength=n_items).float()
        norm = (user_deg[users] * item_deg[items]).rsqrt()
        self.graph = _csr(users, items, norm, (n_users, n_items))
        self.graph_t = _csr(items, users, norm, (n_items, n_users))

    def _apply(self, fn: Any, recurse: bool = True) -> LightGCN:
        """Moves the graphs with the parameters (``.to(device)``); sparse CSR tensors cannot be
        registered as buffers."""
        super()._apply(fn, recurse)
        self.graph, self.graph_t = fn(self.graph), fn(self.graph_t)
        return self

    def tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        user, item = self.users.weight, self.items.weight
        user_sum, item_sum = user, item
        for _ in range(self.layers):
            user, item = (
                _Propagate.apply(self.graph, self.graph_t, item),
                _Propagate.apply(self.graph_t, self.graph, user),
            )
            user_sum, item_sum = user_sum + user, item_sum + item
        return user_sum / (self.layers + 1), item_sum / (self.layers + 1)


class FastDropout(nn.Module):
    """Inverted dropout drawing 16 random bits per element (``p`` rounded to k / 65536).

    Four decisions come from each random 64-bit integer: on CPU this is two to three times as
    fast as ``nn.Dropout``, whose per-element draws dominated the MLP tower's training time.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.dropped = round(p * 65536)  # how many of the 65536 16-bit values mean "drop"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.dropped == 0:
            return x
        n = x.numel()
        draws = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), device=x.device)
        keep = draws.view(torch.int16)[:n].view(x.shape) >= self.dropped - 32768
        return x * keep.to(x.dtype).mul_(65536 / (65536 - self.dropped))


class Tower(nn.Module):
    """The NCF MLP over ``[user; item]``: ``layers`` linear layers of widths ``width``,
    ``width / 2``, ... (at least 8), each followed by the activation and dropout.

    The first layer is linear in the concatenation, ``W [u; i] = W_u u + W_i i``, so the two
    halves are projected separately and added (broadcast over all items when ranking).
    """

    def __init__(self, dim: int, width: int, layers: int, activation: str, dropout: float) -> None:
        super().__init__()
        widths = [max(8, width >> layer) for layer in range(layers)]
        self.dim = dim
        self.first = nn.Linear(2 * dim, widths[0])
        self.rest = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.activation = ACTIVATIONS[activation]()
        self.dropout = FastDropout(dropout)
        self.out_dim = widths[-1]

    def _hidden(self, first: torch.Tensor) -> torch.Tensor:
        """The tower's output from the first layer's pre-activation."""
        hidden = self.dropout(self.activation(first))
        for layer in self.rest:
            hidden = self.dropout(self.activation(layer(hidden)))
        return hidden

    def pairs(
        self,
        user_table: torch.Tensor,
        users: torch.Tensor,
        item_table: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        """Tower outputs for each (user, item) pair: shape ``items.shape + (out_dim,)``."""
        weight_user, weight_item = self.first.weight.split(self.dim, dim=1)
        user_part = _project(user_table, weight_user, users) + self.first.bias
        return self._hidden(_per_item(user_part, items) + _project(item_table, weight_item, items))

    def score_all(
        self, user_rows: torch.Tensor, item_table: torch.Tensor, head: torch.Tensor
    ) -> torch.Tensor:
        """``tower(u, i) @ head`` for every user row and every item: ``(users, items)``."""
        weight_user, weight_item = self.first.weight.split(self.dim, dim=1)
        user_part = user_rows @ weight_user.T + self.first.bias
        item_part = item_table @ weight_item.T
        rows = max(1, _TOWER_CHUNK // (item_table.shape[0] * self.first.out_features))
        return torch.cat(
            [self._hidden(chunk.unsqueeze(1) + item_part) @ head for chunk in user_part.split(rows)]
        )


class NCF(Recommender):
    """The neural collaborative filtering family: GMF, MLP and NeuMF.

    The score is a linear layer over the concatenation of the GMF branch ``u_g * i_g`` (when
    ``gmf``) and the MLP branch ``tower([u_m; i_m])`` (when ``tower`` is given); each branch has
    its own embeddings. GMF has only the first, MLP only the second, NeuMF both.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        dim: int,
        init_std: float,
        gmf: bool,
        tower: Tower | None,
    ) -> None:
        super().__init__()
        if not gmf and tower is None:
            raise ValueError("an NCF model needs a GMF branch, an MLP tower or both")
        self.gmf_dim = dim if gmf else 0
        if gmf:
            self.gmf_users = _embedding(n_users, dim, init_std)
            self.gmf_items = _embedding(n_items, dim, init_std)
        self.tower = tower
        if tower is not None:
            self.mlp_users = _embedding(n_users, dim, init_std)
            self.mlp_items = _embedding(n_items, dim, init_std)
        self.head = nn.Linear(self.gmf_dim + (tower.out_dim if tower else 0), 1)

    def _heads(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The final layer's weights on the GMF features and on the tower's output."""
        weight = self.head.weight[0]
        return weight.split([self.gmf_dim, len(weight) - self.gmf_dim])

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        # head([u*i; t]) = (u * w_gmf) . i + t . w_mlp + b, without concatenating features.
        head_gmf, head_mlp = self._heads()
        scores = self.head.bias
        if self.gmf_dim:
            user_rows = self.gmf_users(users) * head_gmf
            scores = scores + _dot(user_rows, self.gmf_items.weight, items)
        if self.tower is not None:
            hidden = self.tower.pairs(self.mlp_users.weight, users, self.mlp_items.weight, items)
            scores = scores + hidden @ head_mlp
        return scores

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        head_gmf, head_mlp = self._heads()
        scores = self.head.bias
        if self.gmf_dim:
            scores = scores + (self.gmf_users(users) * head_gmf) @ self.gmf_items.weight.T
        if self.tower is not None:
            scores = scores + self.tower.score_all(
                self.mlp_users(users), self.mlp_items.weight, head_mlp
            )
        return scores


AUTOENCODERS = ("multdae", "multvae", "dlae")


def build_model(config: RecsysConfig, n_users: int, n_items: int, train: np.ndarray) -> Recommender:
    """The model named by ``config.model``; ``train`` (user, item) pairs define LightGCN's graph
    and the autoencoders' input rows.

    Raises ValueError for an unknown model or a missing conditional hyperparameter.
    """
    from mfnas.tasks.recsys import autoencoders as ae

    need = config.require
    if config.model in ("multdae", "multvae"):
        shape = (need("ae_layers"), need("ae_width"), need("ae_activation"), need("ae_dropout"))
        if config.model == "multdae":
            return ae.MultDAE(n_users, n_items, train, *shape)
        latent = (need("vae_latent"), need("vae_beta"), need("vae_anneal_steps"))
        return ae.MultVAE(n_users, n_items, train, *shape, *latent)
    if config.model == "dlae":
        return ae.DLAE(n_users, n_items, train, need("dlae_dropout"), need("dlae_l2"))
    if config.model == "lightgcn":
        dim, std = need("embedding_dim"), need("init_std")
        return LightGCN(n_users, n_items, dim, std, need("gcn_layers"), train)
    return build_interaction(config, n_users, n_items)


def build_interaction(config: ConfigView, n_users: int, n_items: int) -> Recommender:
    """The user-item model of ``config.model`` among MF, GMF, MLP and NeuMF from the fields
    ``embedding_dim``, ``init_std`` and the ``mlp_*`` ones (``RecsysConfig`` or the rating
    task's config). Raises ValueError for another model or a missing conditional value."""
    dim, std = config.require("embedding_dim"), config.require("init_std")
    if config.model == "mf":
        return MF(n_users, n_items, dim, std)
    if config.model == "gmf":
        return NCF(n_users, n_items, dim, std, gmf=True, tower=None)
    if config.model in ("mlp", "neumf"):
        tower = Tower(
            dim,
            config.require("mlp_width"),
            config.require("mlp_layers"),
            config.require("mlp_activation"),
            config.require("mlp_dropout"),
        )
        return NCF(n_users, n_items, dim, std, gmf=config.model == "neumf", tower=tower)
    raise ValueError(f"unknown recsys model {config.model!r}")
