"""Surrogate replay: XGBoost models fitted on a recorded table answer ``evaluate`` instead.

``fit_surrogate`` fits, on the ok recordings of a table (``mfnas.replay.table``):

- ``objective``: validation objective at any epoch, one regressor on rows (config vector,
  epoch) -> curve value, every epoch of every configuration;
- ``cost``: log of the mean seconds per epoch, from the config vector;
- ``test``: the test objective after the last epoch, from the config vector;
- ``crash`` (only when at least ``MIN_CRASHES`` recordings crashed): a classifier of crashing,
  from the config vector; a configuration crashes when its probability exceeds 0.5.

The config vector is ConfigSpace's normalised vector with NaN for inactive hyperparameters,
which XGBoost reads as missing. Held-out quality is measured by configuration: GroupKFold with
the configuration as group, so no configuration has rows on both sides of a split.
``SurrogateTask`` replays a saved surrogate as a ``ReplayTask`` (mode ``surrogate``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from ConfigSpace import Configuration, ConfigurationSpace
from scipy import stats
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold

from mfnas.direction import Direction
from mfnas.replay.base import ReplayTask
from mfnas.replay.table import Recording, read_references
from mfnas.spaces import config_key, config_vector, plain_config
from mfnas.tasks.base import Checkpoint, Result, done_epochs

FORMAT = 1
META = "surrogate.json"
MODELS = ("objective", "cost", "test", "crash")
MIN_CONFIGS = 5  # ok configurations needed to fit and to measure held-out quality
MIN_CRASHES = 5  # crashed recordings needed to fit the crash classifier
N_SPLITS = 5
REPORT_EPOCHS = (1, 3, 9)  # plus the final epoch

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "max_depth": 6,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
    "tree_method": "hist",
    "n_jobs": 1,
}


class SurrogateError(ValueError):
    """A surrogate folder that cannot be loaded; the one-line message names the problem."""


@dataclass
class Surrogate:
    """Fitted models plus what they need to be used: the space, fidelity, metric and provenance.

    ``boosters`` maps names of ``MODELS`` to XGBoost boosters (``crash`` may be absent).
    ``quality`` is the held-out report of ``fit_surrogate``; ``params`` the XGBoost settings
    (its seed included, as ``random_state``).
    """

    task: str
    space: ConfigurationSpace
    epochs: int
    metric: str
    maximize: bool
    boosters: dict[str, xgb.Booster]
    params: dict[str, Any]
    quality: dict[str, Any] = field(default_factory=dict)
    curves_sha256: str | None = None

    @property
    def feature_names(self) -> list[str]:
        """Names of the config-vector columns (the space's order), then ``epoch``."""
        return [*self.space.keys(), "epoch"]

    def predict(self, values: dict[str, Any]) -> tuple[np.ndarray, float, float, bool]:
        """For a configuration given by its active ``values``: the predicted curve at epochs
        1..``epochs``, seconds per epoch, final test objective, and whether it crashes.
        Raises ValueError for values that are not a configuration of ``space``."""
        vector = config_vector(self.space, values)
        rows = _rows(vector[None, :], self.epochs)
        curve = _clip(self.boosters["objective"].inplace_predict(rows), self.maximize)
        single = vector[None, :]
        seconds = math.exp(float(self.boosters["cost"].inplace_predict(single)[0]))
        test = float(_clip(self.boosters["test"].inplace_predict(single), self.maximize)[0])
        crash = self.boosters.get("crash")
        crashes = crash is not None and float(crash.inplace_predict(single)[0]) > 0.5
        return curve.astype(float), seconds, test, crashes

    def save(self, folder: str | Path) -> None:
        """Write the models (XGBoost UBJSON, ``<name>.ubj``) and ``surrogate.json`` into
        ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in MODELS:
            path = folder / f"{name}.ubj"
            if name in self.boosters:
                self.boosters[name].save_model(path)
            else:
                path.unlink(missing_ok=True)  # a stale model of an earlier fit
        meta = {
            "format": FORMAT,
            "task": self.task,
            "space": self.space.to_serialized_dict(),
            "epochs": self.epochs,
            "metric": self.metric,
            "maximize": self.maximize,
            "feature_names": self.feature_names,
            "models": sorted(self.boosters),
            "params": self.params,
            "curves_sha256": self.curves_sha256,
            "quality": self.quality,
        }
        (folder / META).write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> Surrogate:
        """Read what ``save`` wrote. Raises SurrogateError for a missing or broken folder."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / META).read_text())
            surrogate = cls(
                task=meta["task"],
                space=ConfigurationSpace.from_serialized_dict(meta["space"]),
                epochs=int(meta["epochs"]),
                metric=meta["metric"],
                maximize=bool(meta["maximize"]),
                boosters={name: _load_booster(folder / f"{name}.ubj") for name in meta["models"]},
                params=meta["params"],
                quality=meta["quality"],
                curves_sha256=meta.get("curves_sha256"),
            )
        except OSError as exc:
            raise SurrogateError(f"{folder}: cannot read the surrogate: {exc}") from None
        except (ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
            message = " ".join(str(exc).split())[:200]
            raise SurrogateError(
                f"{folder}: broken surrogate: {type(exc).__name__}: {message}"
            ) from None
        if meta.get("format") != FORMAT or surrogate.feature_names != meta.get("feature_names"):
            raise SurrogateError(f"{folder / META}: not a surrogate of this mfnas version")
        if not {"objective", "cost", "test"} <= set(surrogate.boosters):
            raise SurrogateError(f"{folder / META}: broken surrogate: a model is missing")
        return surrogate


def _load_booster(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": 1})
    return booster


def _clip(values: np.ndarray, maximize: bool) -> np.ndarray:
    """Maximised objectives lie in [0, 1] (see ``Task``); minimised ones are left as they are."""
    return np.clip(values, 0.0, 1.0) if maximize else values


def _rows(vectors: np.ndarray, epochs: int) -> np.ndarray:
    """One row per (configuration, epoch): the config vector then the epoch number (1-based),
    configurations outer, epochs inner."""
    steps = np.tile(np.arange(1, epochs + 1, dtype=float), len(vectors))
    return np.column_stack([np.repeat(vectors, epochs, axis=0), steps])


def group_folds(groups: Sequence[Any], n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) row indices of GroupKFold: every row held out exactly once, and the rows
    of a group all on one side of every split. Needs at least ``n_splits`` distinct groups."""
    labels = np.asarray(groups)
    return list(GroupKFold(n_splits=n_splits).split(labels, groups=labels))


def _fit(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> xgb.Booster:
    return xgb.XGBRegressor(**params).fit(x, y).get_booster()


def _out_of_fold(
    x: np.ndarray, y: np.ndarray, groups: Sequence[Any], params: dict[str, Any]
) -> np.ndarray:
    """Predictions for every row by a model that never saw that row's group."""
    predicted = np.empty(len(y))
    for train, held in group_folds(groups, min(N_SPLITS, len(set(groups)))):
        predicted[held] = _fit(x[train], y[train], params).inplace_predict(x[held])
    return predicted


def _agreement(true: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """R², Spearman and Kendall tau of predictions; None where undefined (a constant side)."""
    if len(true) < 2 or np.ptp(true) == 0 or np.ptp(predicted) == 0:
        return {"r2": None, "spearman": None, "kendall": None}
    return {
        "r2": float(r2_score(true, predicted)),
        "spearman": float(stats.spearmanr(true, predicted).statistic),
        "kendall": float(stats.kendalltau(true, predicted).statistic),
    }


def report_epochs(epochs: int) -> list[int]:
    """The epochs held-out quality is reported at: 1, 3, 9 and the last, within 1..``epochs``."""
    return sorted({min(e, epochs) for e in (*REPORT_EPOCHS, epochs)})


def fit_surrogate(
    recordings: Sequence[Recording],
    space: ConfigurationSpace,
    epochs: int,
    metric: str,
    maximize: bool,
    seed: int = 0,
    *,
    task: str | None = None,
    curves_sha256: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[Surrogate, dict[str, Any]]:
    """Fit the surrogate of ``recordings`` (see the module docstring) and measure its held-out
    quality; returns the surrogate (its ``quality`` set) and the quality report.

    ``task`` defaults to the space's name; ``params`` override ``DEFAULT_PARAMS``. The same
    inputs give the same models. Raises ValueError with fewer than ``MIN_CONFIGS`` distinct ok
    configurations, or for recordings that are not configurations of ``space`` or lack
    ``epochs`` finite points or a finite test ``metric``.
    """
    settings = {**DEFAULT_PARAMS, **(params or {}), "random_state": seed}
    ok = [r for r in recordings if r.ok]
    keys = [json.dumps(r.config, sort_keys=True) for r in ok]
    distinct = len(set(keys))
    if distinct < MIN_CONFIGS:
        raise ValueError(f"need {MIN_CONFIGS} ok configurations to fit a surrogate, got {distinct}")
    for r in ok:
        values = [*r.curve, (r.test or {}).get(metric, math.nan)]
        if len(r.curve) != epochs or not all(math.isfinite(v) for v in values):
            raise ValueError(f"recording {r.id} lacks {epochs} finite points or a test {metric}")
    vectors = np.array([config_vector(space, r.config) for r in ok])
    curves = np.array([r.curve for r in ok], dtype=float)
    log_seconds = np.log(np.array([max(r.seconds, 1e-9) / epochs for r in ok]))
    tests = np.array([r.test[metric] for r in ok], dtype=float)  # type: ignore[index]

    rows, row_groups = _rows(vectors, epochs), np.repeat(keys, epochs)
    oof = _clip(_out_of_fold(rows, curves.ravel(), row_groups, settings), maximize)
    oof = oof.reshape(curves.shape)
    objective = [
        {"epoch": e, **_agreement(curves[:, e - 1], oof[:, e - 1])} for e in report_epochs(epochs)
    ]
    cost_oof = _out_of_fold(vectors, log_seconds, keys, settings)
    test_oof = _clip(_out_of_fold(vectors, tests, keys, settings), maximize)
    crashed = [r for r in recordings if not r.ok]
    quality: dict[str, Any] = {
        "configs_ok": len(ok),
        "configs_crashed": len(crashed),
        "n_splits": min(N_SPLITS, distinct),
        "objective": objective,
        "spearman_final": objective[-1]["spearman"],
        "cost": _agreement(log_seconds, cost_oof),
        "test": _agreement(tests, test_oof),
    }

    boosters = {
        "objective": _fit(rows, curves.ravel(), settings),
        "cost": _fit(vectors, log_seconds, settings),
        "test": _fit(vectors, tests, settings),
    }
    if len(crashed) >= MIN_CRASHES:
        x = np.vstack([vectors, [config_vector(space, r.config) for r in crashed]])
        y = np.array([0] * len(ok) + [1] * len(crashed))
        classifier = xgb.XGBClassifier(**settings)
        boosters["crash"] = classifier.fit(x, y).get_booster()
    surrogate = Surrogate(
        task=task or space.name,
        space=space,
        epochs=epochs,
        metric=metric,
        maximize=maximize,
        boosters=boosters,
        params=settings,
        quality=quality,
        curves_sha256=curves_sha256,
    )
    return surrogate, quality


class SurrogateTask(ReplayTask):
    """A saved surrogate as a task: ``evaluate`` predicts in milliseconds, the same whatever
    the seed, and raises RuntimeError for a configuration the crash model says crashes.

    The curve of ``epochs`` epochs is the first ``epochs`` points of the full predicted curve,
    so a configuration promoted to more epochs repeats its earlier points. ``test`` is
    predicted only at ``max_epochs``. ``cost`` is ``epochs`` times the predicted seconds per
    epoch; a continued evaluation costs its new epochs only.
    """

    mode = "surrogate"
    min_epochs = 1

    def __init__(
        self,
        surrogate: Surrogate,
        source: str,
        references: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.surrogate = surrogate
        self.source = source
        self.recorded_references = references or {}
        self.name = surrogate.task
        self.metric = surrogate.metric
        self.direction = Direction.of(surrogate.maximize)
        self.max_epochs = surrogate.epochs
        self._cache: dict[str, tuple[np.ndarray, float, float, bool]] = {}

    @classmethod
    def from_folder(cls, path: str | Path) -> SurrogateTask:
        """The surrogate saved in ``path`` with the reference rows kept beside it. Raises
        SurrogateError for a missing or broken one."""
        return cls(Surrogate.load(path), str(path), read_references(Path(path)))

    @property
    def space(self) -> ConfigurationSpace:
        return self.surrogate.space

    def _predict(self, config: Configuration) -> tuple[np.ndarray, float, float, bool]:
        key = config_key(config)
        if key not in self._cache:
            self._cache[key] = self.surrogate.predict(plain_config(config))
        return self._cache[key]

    def cost(self, config: Configuration, epochs: int) -> float:
        self.check_epochs(epochs)
        return epochs * self._predict(config)[1]

    def seconds_per_epoch(self, samples: int = 64) -> float:
        """The mean predicted seconds per epoch of ``samples`` configurations drawn from the
        space with seed 0 (the same every call)."""
        from mfnas.strategies.configs import sample_config  # the strategies' own sampler

        rng = np.random.default_rng(0)
        configs = [sample_config(self.space, rng) for _ in range(samples)]
        return float(np.mean([self._predict(c)[1] for c in configs]))

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        curve, seconds, test, crashes = self._predict(config)
        if crashes:
            raise RuntimeError("surrogate predicts this configuration crashes")
        points = tuple(float(v) for v in curve[:epochs])
        done = done_epochs(start)
        return Result(
            curve=points,
            val={self.metric: points[-1]},
            test={self.metric: test} if epochs == self.max_epochs else None,
            seconds=(epochs - done) * seconds,
            epochs=epochs,
            epoch_seconds=(seconds,) * epochs,
            continued_from=done,
        )
