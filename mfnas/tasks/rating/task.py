"""The recsys-rating task: MovieLens-100K explicit ratings, validation RMSE, epochs as fidelity."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.tasks.base import Checkpoint, Result, TrainedTask
from mfnas.tasks.device import resolve_device
from mfnas.tasks.rating.config import RatingConfig
from mfnas.tasks.rating.metrics import METRICS, RatingEvaluator
from mfnas.tasks.rating.split import RatingSplit, rating_folds, split_ratings
from mfnas.tasks.rating.train import OBJECTIVE, RatingTrainer, predict_with


class RatingTask(TrainedTask):
    """Explicit rating prediction on MovieLens-100K; the objective is validation RMSE.

    The ratings are split per rating at random 80/10/10 with ``split_seed``. The constructor
    only stores its parameters; the data, the split and the trainer are set up on first use
    and cached, and left out when the task is pickled (a worker rebuilds them).
    """

    name = "recsys-rating"
    metric = OBJECTIVE
    direction = Direction.MINIMIZE
    min_epochs = 1
    max_epochs = 27

    cached = ("_ratings", "_split", "_run")
    reference_modules = ("mfnas.tasks.rating.reference", "mfnas.tasks.rating.metrics")
    _ratings: np.ndarray | None
    _split: RatingSplit | None
    _run: tuple[RatingTrainer, RatingEvaluator, RatingEvaluator] | None

    @property
    def ratings(self) -> np.ndarray:
        """Every rating as (user, item, rating, timestamp) rows (loaded on first use)."""
        if self._ratings is None:
            from mfnas.data.movielens import load_ml100k  # imported on first use

            self._ratings = load_ml100k(self.data_dir)
        return self._ratings

    @property
    def split(self) -> RatingSplit:
        """The train/validation/test split of ``ratings`` (cut on first use)."""
        if self._split is None:
            self._split = split_ratings(self.ratings, seed=self.split_seed)
        return self._split

    def data_card(self) -> str:
        split = self.split
        return (
            f"MovieLens-100K explicit ratings (1-5 stars); random 80/10/10 split of the ratings, "
            f"split seed {self.split_seed}: {len(split.train):,} train / {len(split.val):,} "
            f"validation / {len(split.test):,} test ratings."
        )

    def _references(self) -> dict[str, dict[str, Any]]:
        """The global mean and the tuned bias baseline on this task's split."""
        from mfnas.tasks.rating.reference import reference_rows

        return reference_rows(self.split)

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        if self._run is None:
            split, device = self.split, resolve_device(self.device)
            trainer = RatingTrainer(split.n_users, split.n_items, split.train, device)
            evaluators = RatingEvaluator(split.val, device), RatingEvaluator(split.test, device)
            self._run = trainer, *evaluators
        trainer, validation, testing = self._run
        return trainer.run(
            RatingConfig.from_mapping(dict(config)),
            int(epochs),
            int(seed),
            validation,
            testing,
            start,
        )

    def cross_validate(
        self, config: Configuration | Mapping[str, Any], epochs: int, seed: int, folds: int = 5
    ) -> dict[str, Any]:
        """K-fold cross-validation of ``config`` over all the ratings, for comparison with
        published K-fold tables (e.g. Surprise's on MovieLens-100K).

        The ratings are cut into ``folds`` random folds with ``split_seed`` (the task's
        validation split plays no part); for each fold a model is trained for ``epochs`` epochs
        with ``seed`` on the other folds, nothing being selected or stopped early on any held-out
        data, and tested on the fold after its last epoch. Returns ``folds``, ``epochs``,
        ``seed``, ``<metric>_mean`` and ``<metric>_std`` (over folds, ddof 0 as Surprise prints
        it) for RMSE and MAE, ``per_fold`` (each fold's metrics) and ``seconds``.
        Raises ValueError for fewer than 2 folds, and what ``evaluate`` raises.
        """
        started = time.perf_counter()
        rating_config = RatingConfig.from_mapping(dict(config))
        device = resolve_device(self.device)
        per_fold = []
        for part in rating_folds(self.ratings, int(folds), seed=self.split_seed):
            trainer = RatingTrainer(part.n_users, part.n_items, part.train, device)
            fit = trainer.fit(rating_config, int(epochs), int(seed))
            per_fold.append(predict_with(fit.model, RatingEvaluator(part.test, device)))
        summary: dict[str, Any] = {"folds": len(per_fold), "epochs": int(epochs), "seed": int(seed)}
        for name in METRICS:
            values = np.array([fold[name] for fold in per_fold])
            summary[f"{name}_mean"] = float(values.mean())
            summary[f"{name}_std"] = float(values.std())
        return {**summary, "per_fold": per_fold, "seconds": time.perf_counter() - started}
