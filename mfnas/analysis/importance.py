"""Which hyperparameters mattered: an XGBoost model of the run's full-fidelity evaluations.

Features are ConfigSpace's normalised vector of each configuration (inactive parameters are
NaN, which XGBoost treats as missing); the target is the validation objective. Importance is
the mean absolute per-feature contribution (XGBoost's ``pred_contribs``, i.e. TreeSHAP).
"""

from __future__ import annotations

import numpy as np
from ConfigSpace import Configuration

from mfnas.analysis.view import RunView
from mfnas.store import Status

MIN_EVALUATIONS = 8


def hyperparameter_importance(view: RunView, seed: int = 0) -> list[tuple[str, float]]:
    """(hyperparameter, mean |contribution|) pairs of the run's search space, largest first.

    Uses the ``ok`` evaluations at full fidelity (``meta["max_epochs"]``); returns ``[]`` when
    there are fewer than ``MIN_EVALUATIONS`` of them (too few to say anything).
    """
    max_epochs = view.meta["max_epochs"]
    full = [r for r in view.records if r.status is Status.OK and r.epochs >= max_epochs]
    if len(full) < MIN_EVALUATIONS:
        return []
    import xgboost as xgb  # here: a run too small for importance never pays for its import

    space = view.space
    features = np.array([Configuration(space, r.config).get_array() for r in full])
    target = np.array([r.curve[-1] for r in full])
    model = xgb.XGBRegressor(
        n_estimators=200, max_depth=4, learning_rate=0.05, subsample=0.8, random_state=seed,
        n_jobs=1,
    )  # fmt: skip
    model.fit(features, target)
    contributions = model.get_booster().predict(xgb.DMatrix(features), pred_contribs=True)
    mean_abs = np.abs(contributions[:, :-1]).mean(axis=0)  # the last column is the bias
    names = [space.at[i] for i in range(len(space))]  # the vector's index order
    return sorted(zip(names, mean_abs.tolist(), strict=True), key=lambda p: -p[1])
