"""Predicting a configuration's full-fidelity cost from its configuration and partial curve.

The model behind ``surrogate-hb``: an XGBoost regressor on rows of (config vector, features
of a partial learning curve) -> the cost after the last epoch of a full training. Its
training data are full-fidelity curves only; each yields one row per rung (its prefix of
``rung`` epochs -> its final cost), because evaluations are deterministic per configuration,
so a shorter training of the same configuration gives exactly that prefix.

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

CURVE_FEATURES = ("last", "best", "slope", "epochs", "mean")


def curve_features(costs: Sequence[float]) -> list[float]:
    """Features of a partial curve of costs (one per epoch, at least one), in the order of
    ``CURVE_FEATURES``: the last cost; the best (lowest) cost; the slope over the last third
    of the curve (cost change per epoch, NaN for a one-epoch curve: missing to XGBoost); the
    epochs reached; the mean cost (the area under the curve: how fast it learned).
    """
    n = len(costs)
    window = max(1, n // 3)
    slope = (costs[-1] - costs[-1 - window]) / window if n > 1 else math.nan
    return [float(costs[-1]), float(min(costs)), float(slope), float(n), float(np.mean(costs))]


def _row(vector: np.ndarray, costs: Sequence[float]) -> np.ndarray:
    """One model input: a config vector followed by the features of a partial curve."""
    return np.concatenate([vector, curve_features(costs)])


class CurvePredictor:
    """An XGBoost regressor of the full-fidelity cost, fitted on prefixes of full curves.

    ``add`` stores a full-fidelity curve; ``predict`` fits on every stored curve's prefixes
    at the given rungs (refitting only when curves or rungs changed since the last fit) and
    predicts the final cost of partial curves. Small by design (the data are tens of rows):
    ``n_estimators`` trees of depth ``max_depth``, one thread, no subsampling, seeded: the
    same data give the same predictions.
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
        self._model: XGBRegressor | None = None
        self._fitted_on: tuple[int, tuple[int, ...]] | None = None  # (curves, rungs)

    @property
    def n_curves(self) -> int:
        """How many full-fidelity curves the predictor has to learn from."""
        return len(self._curves)

    def add(self, values: Mapping[str, Any], costs: Sequence[float]) -> None:
        """Add the full-fidelity curve ``costs`` (epochs 1..max) of the configuration with
        active ``values``. Raises ValueError for values that are not a configuration."""
        self._curves.append((config_vector(self.space, dict(values)), tuple(costs)))

    def _fit(self, rungs: tuple[int, ...]) -> XGBRegressor:
        if self._model is not None and self._fitted_on == (self.n_curves, rungs):
            return self._model
        rows, targets = [], []
        for vector, costs in self._curves:
            for rung in rungs:
                if rung < len(costs):
                    rows.append(_row(vector, costs[:rung]))
                    targets.append(costs[-1])
        if not rows:
            raise ValueError("no full-fidelity curve reaches beyond a rung: nothing to fit")
        model = XGBRegressor(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            tree_method="hist",
            n_jobs=1,
            random_state=self.seed,
        )
        model.fit(np.asarray(rows), np.asarray(targets))
        self._model, self._fitted_on = model, (self.n_curves, rungs)
        return model

    def predict(
        self, rungs: Sequence[int], queries: Sequence[tuple[Mapping[str, Any], Sequence[float]]]
    ) -> list[float]:
        """The predicted full-fidelity costs of ``queries`` ((active values, partial curve of
        costs) pairs) by a model fitted on the stored curves' prefixes at ``rungs``. Raises
        ValueError when there is nothing to fit (no stored curve longer than a rung)."""
        model = self._fit(tuple(sorted(set(rungs))))
        rows = [_row(config_vector(self.space, dict(values)), costs) for values, costs in queries]
        return [float(v) for v in model.predict(np.asarray(rows))]
