"""Each trained task's model as a server uses it, and what its export keeps beside the weights.

``SERVED`` maps a task name to its ``ServedModel`` class. A class does two things:

- ``export_parts(task, config)``: at export time, on the task that trained the model,
  the arrays serving needs (``arrays.npz``), the ``serving`` description of the manifest (the
  endpoint and what it takes) and the ``data`` fingerprint;
- ``ServedModel(bundle, device)``: at serving time, the model rebuilt from a bundle, answering
  its endpoint. Bad input raises ``RequestError`` (the server answers 4xx with its message).

Endpoints: ``recommend`` (recsys: the top ``k`` items of a user, seen ones excluded on request;
an unknown user gets the most popular items, flagged as a fallback), ``predict`` (rating: a
user's rating of an item; an unknown user is predicted from the global mean and the item's
bias, flagged), ``classify`` (image, fashion: the class of one image of raw pixels; text: the
topic of one document).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from mfnas.deploy.bundle import Bundle
from mfnas.tasks.base import Task


class RequestError(ValueError):
    """A request the model cannot answer (an unknown item, an image of the wrong shape):
    ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ExportParts:
    """What an export writes beside the weights: ``arrays``, the manifest's ``serving`` and
    ``data`` entries."""

    arrays: dict[str, np.ndarray]
    serving: dict[str, Any]
    data: dict[str, Any]


class ServedModel(ABC):
    """A trained model loaded from a bundle, on ``device``, in eval mode."""

    endpoint: ClassVar[str]

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        self.manifest = bundle.manifest
        self.device = device

    @classmethod
    @abstractmethod
    def export_parts(cls, task: Task, config: Mapping[str, Any]) -> ExportParts:
        """What the export of ``task``'s model of ``config`` keeps beside its weights."""


class _KnownIds:
    """Raw ids (sorted, as the splits index them: raw id ``ids[i]`` is index ``i``)."""

    def __init__(self, ids: np.ndarray, what: str) -> None:
        self.ids, self.what = np.asarray(ids, dtype=np.int64), what

    def index(self, raw: int) -> int | None:
        """The index of ``raw``, or None when it is not known."""
        at = int(np.searchsorted(self.ids, raw))
        return at if at < len(self.ids) and self.ids[at] == raw else None

    def require(self, raw: int) -> int:
        """The index of ``raw``; RequestError (404) when it is not known."""
        at = self.index(raw)
        if at is None:
            raise RequestError(f"unknown {self.what} {raw}", status=404)
        return at


def _movielens(task: Any) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """MovieLens-100K's raw user and item ids (sorted) and the data fingerprint."""
    from mfnas.data.movielens import ML100K_SHA256, load_ml100k

    ratings = load_ml100k(task.data_dir)
    data = {"dataset": "MovieLens-100K", "sha256": ML100K_SHA256, "split_seed": task.split_seed}
    return np.unique(ratings[:, 0]), np.unique(ratings[:, 1]), data


class Recommendations(ServedModel):
    """A recsys model: every known user's scores of every item, computed once at load.

    Seen items are the user's training and validation interactions (what the model knew);
    the test interactions stay unseen, so the recommendations of a test user, seen ones
    excluded, are the ranking the export's test metrics scored. Popularity (the fallback's
    order) counts the same seen interactions.
    """

    endpoint = "recommend"

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        super().__init__(bundle, device)
        from mfnas.tasks.recsys.config import RecsysConfig
        from mfnas.tasks.recsys.models import build_model

        arrays = bundle.arrays
        self.users = _KnownIds(arrays["raw_users"], "user")
        self.items = _KnownIds(arrays["raw_items"], "item")
        self.n_items = len(self.items.ids)
        config = RecsysConfig.from_mapping(bundle.manifest["config"])
        model = build_model(config, len(self.users.ids), self.n_items, arrays["train"])
        model.load_state_dict(bundle.weights)
        model.to(device).eval()
        with torch.inference_mode():
            users = torch.arange(len(self.users.ids), device=device)
            self.scores = model.score_all(users).float().cpu()
        seen = arrays["seen"]
        self.seen_at = np.searchsorted(seen[:, 0], np.arange(len(self.users.ids) + 1))
        self.seen_items = torch.as_tensor(seen[:, 1])
        self.popular = torch.as_tensor(arrays["popularity"]).double()

    @classmethod
    def export_parts(cls, task: Task, config: Mapping[str, Any]) -> ExportParts:
        split = task.split  # type: ignore[attr-defined]
        raw_users, raw_items, data = _movielens(task)
        seen = np.concatenate([split.train, split.val])
        seen = seen[np.lexsort((seen[:, 1], seen[:, 0]))]
        arrays = {
            "raw_users": raw_users,
            "raw_items": raw_items,
            "train": split.train,
            "seen": seen,
            "popularity": np.bincount(seen[:, 1], minlength=split.n_items),
        }
        serving = {
            "endpoint": cls.endpoint,
            "users": int(split.n_users),
            "items": int(split.n_items),
            "seen": "each user's training and validation interactions",
        }
        return ExportParts(arrays, serving, data)

    def seen(self, user: int) -> torch.Tensor:
        """The item indices user index ``user`` has seen."""
        return self.seen_items[self.seen_at[user] : self.seen_at[user + 1]]

    def recommend(self, user: int, k: int, exclude_seen: bool) -> dict[str, Any]:
        """The top ``k`` items of raw user id ``user`` (fewer when seen ones run out)."""
        if not 1 <= k <= self.n_items:
            raise RequestError(f"k must be in 1..{self.n_items} (the item count), got {k}")
        at = self.users.index(user)
        fallback = at is None
        row = self.popular if fallback else self.scores[at].double()  # a copy, safe to mask
        if exclude_seen and not fallback:
            row[self.seen(at)] = float("-inf")
        top = row.topk(k)
        keep = torch.isfinite(top.values)
        items = self.items.ids[top.indices[keep].numpy()]
        return {
            "user": user,
            "items": [int(item) for item in items],
            "scores": [float(score) for score in top.values[keep]],
            "fallback": fallback,
        }

    def item_indices(self, items: list[int]) -> list[int]:
        """The indices of raw item ids ``items``; RequestError (404) for an unknown one."""
        return [self.items.require(item) for item in items]


class Ratings(ServedModel):
    """A rating model (predictions clipped to the 1-5 stars, as the evaluation clips them)."""

    endpoint = "predict"

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        super().__init__(bundle, device)
        from mfnas.tasks.rating.config import RatingConfig
        from mfnas.tasks.rating.models import build_rating_model

        arrays = bundle.arrays
        self.users = _KnownIds(arrays["raw_users"], "user")
        self.items = _KnownIds(arrays["raw_items"], "item")
        config = RatingConfig.from_mapping(bundle.manifest["config"])
        self.model = build_rating_model(
            config, len(self.users.ids), len(self.items.ids), float(bundle.weights["mean"])
        )
        self.model.load_state_dict(bundle.weights)
        self.model.to(device).eval()

    @classmethod
    def export_parts(cls, task: Task, config: Mapping[str, Any]) -> ExportParts:
        raw_users, raw_items, data = _movielens(task)
        serving = {"endpoint": cls.endpoint, "range": [1.0, 5.0]}
        return ExportParts({"raw_users": raw_users, "raw_items": raw_items}, serving, data)

    def predict(self, user: int, item: int) -> dict[str, Any]:
        """Raw user ``user``'s predicted rating of raw item ``item``."""
        rating, fallback = self.predict_many([user], [item])
        return {"user": user, "item": item, "rating": float(rating[0]), "fallback": fallback[0]}

    def predict_many(self, users: list[int], items: list[int]) -> tuple[np.ndarray, list[bool]]:
        """The predicted ratings of raw ``items`` by raw ``users`` (pairwise), and which came
        from the fallback. RequestError (404) for an unknown item."""
        from mfnas.tasks.rating.metrics import RATING_RANGE

        item_at = torch.tensor([self.items.require(item) for item in items], device=self.device)
        found = [self.users.index(user) for user in users]
        known = torch.tensor([at is not None for at in found], device=self.device)
        user_at = torch.tensor([at or 0 for at in found], device=self.device)
        with torch.inference_mode():
            modelled = self.model(user_at, item_at)
            baseline = self.model.mean + self.model.item_bias.weight[item_at].squeeze(1)
            rating = torch.where(known, modelled, baseline).clamp(*RATING_RANGE)
        return rating.cpu().numpy(), [at is None for at in found]


class Classes(ServedModel):
    """A CNN classifier of one image of raw pixels (scaled as its training images were)."""

    endpoint = "classify"

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        super().__init__(bundle, device)
        from mfnas.spaces import plain_config
        from mfnas.tasks.image.model import ImageConfig, build_cnn

        serving = bundle.manifest["serving"]
        self.shape = tuple(serving["shape"])
        self.range = tuple(serving["pixel_range"])
        self.mean, self.std = serving["pixel_scale"]
        self.names = tuple(serving["classes"])
        config = ImageConfig(**plain_config(bundle.manifest["config"]))
        self.model = build_cnn(config, (1, *self.shape), len(self.names))
        self.model.load_state_dict(bundle.weights)
        self.model.to(device).eval()

    @classmethod
    def export_parts(cls, task: Task, config: Mapping[str, Any]) -> ExportParts:
        split = task.split  # type: ignore[attr-defined]
        serving = {
            "endpoint": cls.endpoint,
            "shape": list(split.images.shape[2:]),
            "pixel_range": list(task.pixel_range),  # type: ignore[attr-defined]
            "pixel_scale": list(split.pixel_scale),
            "classes": list(task.class_names),  # type: ignore[attr-defined]
        }
        fingerprint = hashlib.sha256(np.ascontiguousarray(split.images).tobytes()).hexdigest()
        data = {
            "dataset": task.name,
            "images_sha256": fingerprint,  # of the scaled images of every part
            "split_seed": task.split_seed,  # type: ignore[attr-defined]
        }
        return ExportParts({}, serving, data)

    def classify(self, pixels: list[list[float]]) -> dict[str, Any]:
        """The class of one ``shape`` image of raw pixels in ``pixel_range``."""
        try:
            image = np.asarray(pixels, dtype=np.float64)
        except ValueError:  # ragged rows
            raise RequestError("pixels must be rows of equal length") from None
        if image.shape != self.shape:
            raise RequestError(f"pixels must be {self.shape[0]}x{self.shape[1]}, got {image.shape}")
        low, high = self.range
        if not np.isfinite(image).all() or image.min() < low or image.max() > high:
            raise RequestError(f"pixels must be numbers in {low:g}..{high:g}")
        scaled = torch.as_tensor((image - self.mean) / self.std, dtype=torch.float32)
        return _classified(self.model, scaled[None, None].to(self.device), self.names)


class Topics(ServedModel):
    """A text classifier of one document, preprocessed as its training documents were
    (Cachopo's: lower-cased, every character but a-z a space) and cut to the tokens its
    configuration reads (``TextConfig.tokens``)."""

    endpoint = "classify"

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        super().__init__(bundle, device)
        from mfnas.spaces import plain_config
        from mfnas.tasks.text.model import TextClassifier, TextConfig

        serving = bundle.manifest["serving"]
        self.names = tuple(serving["classes"])
        self.config = TextConfig(**plain_config(bundle.manifest["config"]))
        self.rank_of = {str(word): rank for rank, word in enumerate(bundle.arrays["vocabulary"])}
        self.model = TextClassifier(self.config, len(self.names))
        self.model.load_state_dict(bundle.weights)
        self.model.to(device).eval()

    @classmethod
    def export_parts(cls, task: Task, config: Mapping[str, Any]) -> ExportParts:
        from mfnas.data.newsgroups import CORPUS_SHA256
        from mfnas.tasks.text.model import TextConfig

        split = task.split  # type: ignore[attr-defined]
        vocabulary = np.array(split.vocabulary[: int(config["vocab_size"])])
        serving = {
            "endpoint": cls.endpoint,
            "classes": list(split.groups),
            "tokens": TextConfig(**config).tokens,
            "vocabulary": len(vocabulary),
            "preprocessing": "lower-cased, every character but a-z a space, split on spaces",
        }
        data = {
            "dataset": "20 Newsgroups (bydate, Cachopo's preprocessing)",
            "sha256": CORPUS_SHA256,
            "split_seed": task.split_seed,  # type: ignore[attr-defined]
        }
        return ExportParts({"vocabulary": vocabulary}, serving, data)

    def ids(self, text: str) -> list[int]:
        """The model's input ids of ``text`` (0 pads, 1 any word outside the vocabulary)."""
        words = re.sub("[^a-z]", " ", text.lower()).split()[: self.config.tokens]
        if not words:
            raise RequestError("text has no words (letters a-z after lower-casing)")
        return [self.rank_of[word] + 2 if word in self.rank_of else 1 for word in words]

    def classify(self, text: str) -> dict[str, Any]:
        """The topic of one document."""
        ids = torch.tensor([self.ids(text)], device=self.device)
        return _classified(self.model, ids, self.names)


def _classified(model: torch.nn.Module, batch: torch.Tensor, names: tuple[str, ...]) -> dict:
    """The answer of a classifier to a ``batch`` of one input: the label, its index and every
    class's probability."""
    with torch.inference_mode():
        probabilities = torch.softmax(model(batch).double(), dim=1)[0].cpu()
    best = int(probabilities.argmax())
    return {
        "label": names[best],
        "class": best,
        "probabilities": dict(zip(names, map(float, probabilities), strict=True)),
    }


SERVED: dict[str, type[ServedModel]] = {
    "recsys": Recommendations,
    "recsys-rating": Ratings,
    "image": Classes,
    "fashion": Classes,
    "text": Topics,
}
