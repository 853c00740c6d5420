"""Predicting a configuration's full-fidelity cost from its configuration and partial curve.

The model behind ``surrogate-hb``. Training data are full-fidelity curves only: evaluations
are deterministic per configuration, so a full curve's prefix of ``r`` epochs is exactly what
an ``r``-epoch training of the same configuration gives, and each full curve yields a row for
every explore rung ``r``: (config vector, features of its first ``r`` epochs) -> its final cost.

Two choices keep the tiny, biased data (the full trainings of a run go to its best
candidates) from misleading the model:

- One XGBoost regressor per rung (curve length), fitted on that rung's rows, rather than one
  pooled model with the epochs reached as a feature: in pooled rows "low at epoch 1" and
  "weak" coincide, and trees split on either, so a weak candidate at 9 epochs was predicted
  the large gain of a 1-epoch prefix.
- The target is the change of the cost from the curve's last epoch to the full training's
  last one; the prediction is the last cost plus that change. Trees cannot predict outside
  the range of targets they saw, and the final costs of the best candidates span a narrow
  band; the change carries over to candidates of any level.

Curves are costs (lower is better, see ``Strategy.value_cost``), so one model serves
maximised and minimised objectives alike. The config vector is ConfigSpace's normalised vector
with NaN for inactive hyperparameters, which XGBoost reads as missing: nothing is imputed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from xgboost import XGBRegressor

from mfnas.spaces import config_vector

CURVE_FEATURES = ("last", "best", "slope", "mean")


def curve_features(costs: Sequence[float]) -> list[float]:
    """Features of a partial curve of costs (one per epoch, at least one), in the order of
    ``CURVE_FEATURES``: the last cost; the best (lowest) cost; the slope over the last third
    of the curve (cost change per epoch, NaN for a one-epoch curve: missing to XGBoost); the
    mean cost (the area under the curve: how fast it learned).
    """
    n = len(costs)
    window = max(1, n // 3)
    slope = (costs[-1] - costs[-1 - window]) / window if n > 1 else math.nan
    return [float(costs[-1]), float(min(costs)), float(slope), float(np.mean(costs))]


def _row(vector: np.ndarray, costs: Sequence[float]) -> np.ndarray:
    """One model input: a config vector followed by the features of a partial curve."""
    return np.concatenate([vector, curve_features(costs)])


class CurvePredictor:
    """XGBoost models of the full-fidelity cost, one per curve length, fitted on prefixes of
    full-fidelity curves.

    ``add`` stores a full-fidelity curve; ``predict`` answers partial curves, fitting the
    model of each length asked (again only when curves were added since). Small by design
    (the data are tens of rows): ``n_estimators`` trees of depth ``max_depth``, one thread, no
    subsampling, seeded: the same data give the same predictions.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        seed: int,
        n_estimators: int = 150,
        max_depth: int = 3,
        learning_rate: float = 0.1,
    ) -> None:
        self.space = space
        self.seed = seed
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self._curves: list[tuple[np.ndarray, tuple[float, ...]]] = []  # (config vector, costs)
        self._models: dict[int, tuple[int, XGBRegressor]] = {}  # epochs -> (curves, model)

    @property
    def n_curves(self) -> int:
        """How many full-fidelity curves the predictor has to learn from."""
        return len(self._curves)

    def add(self, values: Mapping[str, Any], costs: Sequence[float]) -> None:
        """Add the full-fidelity curve ``costs`` (epochs 1..max) of the configuration with
        active ``values``. Raises ValueError for values that are not a configuration."""
        self._curves.append((config_vector(self.space, dict(values)), tuple(costs)))

    def _model(self, epochs: int) -> XGBRegressor:
        """The model of ``epochs``-long curves, fitted on every stored curve's prefix."""
        fitted = self._models.get(epochs)
        if fitted is not None and fitted[0] == self.n_curves:
            return fitted[1]
        data = [(v, c) for v, c in self._curves if len(c) > epochs]
        if not data:
            raise ValueError(f"no full-fidelity curve is longer than {epochs} epochs")
        model = XGBRegressor(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            tree_method="hist",
            n_jobs=1,
            random_state=self.seed,
        )
        rows = np.asarray([_row(vector, costs[:epochs]) for vector, costs in data])
        model.fit(rows, np.asarray([costs[-1] - costs[epochs - 1] for _, costs in data]))
        self._models[epochs] = (self.n_curves, model)
        return model

    def predict(self, queries: Sequence[tuple[Mapping[str, Any], Sequence[float]]]) -> list[float]:
        """The predicted full-fidelity costs of ``queries``: (active values, partial curve of
        costs) pairs. Raises ValueError for a partial curve no stored curve is longer than."""
        predicted = [math.nan] * len(queries)
        for epochs in sorted({len(costs) for _, costs in queries}):
            at = [i for i, (_, costs) in enumerate(queries) if len(costs) == epochs]
            rows = [_row(config_vector(self.space, dict(queries[i][0])), queries[i][1]) for i in at]
            for i, change in zip(at, self._model(epochs).predict(np.asarray(rows)), strict=True):
                predicted[i] = float(queries[i][1][-1] + change)
        return predicted
