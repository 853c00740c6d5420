"""Surrogate replay: XGBoost models fitted on a recorded table answer ``evaluate`` instead.

``fit_surrogate`` fits, on the ok recordings of a table (``mfnas.replay.table``):

- ``objective``: validation objective at any epoch, one regressor on rows (config vector,
  epoch) -> curve value, every epoch of every configuration;
- ``cost``: log of the mean seconds per epoch, from the config vector;
- ``gap``: the test objective after the last epoch minus the validation objective there, from
  the config vector; the test prediction is the predicted final validation value plus it, so
  the two move together as a trained model's do (a strategy selecting on validation cannot
  pick up an error of one model that the other does not share);
- ``crash`` (only when at least ``MIN_CRASHES`` recordings crashed): a classifier of crashing,
  from the config vector; a configuration crashes when its probability exceeds 0.5.

A regressor predicts a mean, and its curves are smoother and its values less spread than the
recorded ones: held out, the recsys surrogate's epoch-1 predictions ranked its epoch-27 ones
with a Spearman of 0.84 where the recorded curves give 0.67 (so low-fidelity screening looked
easier than it is), and its final predictions had a standard deviation of 0.061 against the
recordings' 0.074 (so the best of a few configurations scored lower). A prediction therefore
carries a recorded residual: at fit time the out-of-fold residual curve (recorded minus
predicted, every epoch) and gap residual of every configuration are kept; a configuration
asked draws, as a deterministic function of its values, one of the ``NEIGHBOURS`` recorded
configurations whose predicted final value lies nearest its own, and adds that one's residual
curve to its predicted curve and its gap residual to its predicted gap; each epoch's value is
then kept within the recorded values' range at that epoch. The residuals keep what the models
cannot know, so curves cross and spread as recorded ones do (the card reports both).

The config vector is ConfigSpace's normalised vector with NaN for inactive hyperparameters,
which XGBoost reads as missing. Held-out quality is measured by configuration: GroupKFold with
the configuration as group, so no configuration has rows on both sides of a split.
``SurrogateTask`` replays a saved surrogate as a ``ReplayTask`` (mode ``surrogate``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter
from scipy import stats
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold

from mfnas.direction import Direction
from mfnas.replay.base import ReplayTask
from mfnas.replay.table import Recording, read_references
from mfnas.spaces import config_key, config_vector, plain_config
from mfnas.tasks.base import Checkpoint, Result, done_epochs

FORMAT = 2  # 2: a gap model instead of a test model, and recorded residuals
META = "surrogate.json"
RESIDUALS = "residuals.json"
MODELS = ("objective", "cost", "gap", "crash")
NEIGHBOURS = 50  # recorded configurations a prediction draws its residual from
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
    ``residuals`` are the recorded residuals a prediction draws from (see the module
    docstring).
    ``quality`` is the held-out report of ``fit_surrogate``; ``params`` the XGBoost settings
    (its seed included, as ``random_state``).
    """

    task: str
    space: ConfigurationSpace
    epochs: int
    metric: str
    maximize: bool
    boosters: dict[str, xgb.Booster]
    residuals: Residuals
    params: dict[str, Any]
    quality: dict[str, Any] = field(default_factory=dict)
    curves_sha256: str | None = None

    @property
    def feature_names(self) -> list[str]:
        """Names of the config-vector columns (the space's order), then ``epoch``."""
        return [*self.space.keys(), "epoch"]

    def predict(self, values: dict[str, Any]) -> tuple[np.ndarray, float, float, bool]:
        """For a configuration given by its active ``values``: the predicted curve at epochs
        1..``epochs`` with its drawn residual, seconds per epoch, final test objective, and
        whether it crashes. The same values always give the same answer.
        Raises ValueError for values that are not a configuration of ``space``."""
        vector = config_vector(self.space, values)
        rows = _rows(vector[None, :], self.epochs)
        raw = _clip(self.boosters["objective"].inplace_predict(rows), self.maximize)
        single = vector[None, :]
        gap = float(self.boosters["gap"].inplace_predict(single)[0])
        curve, test = self.residuals.add(raw, gap, _draw(self._canonical(values)))
        seconds = math.exp(float(self.boosters["cost"].inplace_predict(single)[0]))
        crash = self.boosters.get("crash")
        crashes = crash is not None and float(crash.inplace_predict(single)[0]) > 0.5
        return curve, seconds, test, crashes

    def _canonical(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` as recordings store them: plain Python values, an integer or float
        hyperparameter's as ``int`` or ``float`` however it was written."""
        found = {}
        for name, value in values.items():
            value = value.item() if isinstance(value, np.generic) else value
            hyperparameter = self.space[name]
            if isinstance(hyperparameter, IntegerHyperparameter):
                value = int(value)
            elif isinstance(hyperparameter, FloatHyperparameter):
                value = float(value)
            found[name] = value
        return found

    def save(self, folder: str | Path) -> None:
        """Write the models (XGBoost UBJSON, ``<name>.ubj``), ``surrogate.json`` and the
        residuals (``residuals.json``) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.ubj"):
            if path.stem not in self.boosters:
                path.unlink()  # a stale model of an earlier fit (or an earlier format)
        for name, booster in self.boosters.items():
            booster.save_model(folder / f"{name}.ubj")
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
        self.residuals.save(folder / RESIDUALS)  # before the file that says the folder is whole
        (folder / META).write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> Surrogate:
        """Read what ``save`` wrote. Raises SurrogateError for a missing or broken folder."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / META).read_text())
            if meta.get("format") != FORMAT:
                raise _OldFormat
            surrogate = cls(
                task=meta["task"],
                space=ConfigurationSpace.from_serialized_dict(meta["space"]),
                epochs=int(meta["epochs"]),
                metric=meta["metric"],
                maximize=bool(meta["maximize"]),
                boosters={name: _load_booster(folder / f"{name}.ubj") for name in meta["models"]},
                residuals=Residuals.load(folder / RESIDUALS, int(meta["epochs"])),
                params=meta["params"],
                quality=meta["quality"],
                curves_sha256=meta.get("curves_sha256"),
            )
        except OSError as exc:
            raise SurrogateError(f"{folder}: cannot read the surrogate: {exc}") from None
        except _OldFormat:
            raise SurrogateError(
                f"{folder / META}: a surrogate of another mfnas version (format "
                f"{meta.get('format')}, this one reads {FORMAT}); fit it again with "
                f"python -m mfnas.fit_surrogate --task {meta.get('task')}"
            ) from None
        except (ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
            message = " ".join(str(exc).split())[:200]
            raise SurrogateError(
                f"{folder}: broken surrogate: {type(exc).__name__}: {message}"
            ) from None
        if surrogate.feature_names != meta.get("feature_names"):
            raise SurrogateError(f"{folder / META}: not a surrogate of this mfnas version")
        if not {"objective", "cost", "gap"} <= set(surrogate.boosters):
            raise SurrogateError(f"{folder / META}: broken surrogate: a model is missing")
        return surrogate


class _OldFormat(Exception):
    """A surrogate.json of another format than ``FORMAT``."""


@dataclass(frozen=True, eq=False)
class Residuals:
    """The recorded residuals of a fit: per ok configuration its out-of-fold predicted final
    value (``anchors``, ascending), residual curve (``curves``, ``(configs, epochs)``) and gap
    residual (``gaps``); ``bounds`` the recorded curves' least and greatest value at each
    epoch (``(2, epochs)``), ``test_bounds`` those of the test objective. Rounded to 7
    decimals (a smaller file; JSON keeps them exactly, so a loaded surrogate predicts what
    the fitted one did)."""

    anchors: np.ndarray
    curves: np.ndarray
    gaps: np.ndarray
    bounds: np.ndarray
    test_bounds: np.ndarray

    @classmethod
    def fit(
        cls, predicted: np.ndarray, recorded: np.ndarray, gap_residuals: np.ndarray,
        tests: np.ndarray,
    ) -> Residuals:  # fmt: skip
        """From out-of-fold ``predicted`` and ``recorded`` curves ``(configs, epochs)``, the
        gap residuals and the recorded test values."""
        order = np.argsort(predicted[:, -1], kind="stable")
        return cls(
            anchors=predicted[order, -1].round(7),
            curves=(recorded - predicted)[order].round(7),
            gaps=gap_residuals[order].round(7),
            bounds=np.stack([recorded.min(axis=0), recorded.max(axis=0)]).round(7),
            test_bounds=np.array([tests.min(), tests.max()]).round(7),
        )

    def neighbour(self, final: float, draw: float) -> int:
        """The index of one of the ``NEIGHBOURS`` configurations whose anchor lies nearest
        ``final``, picked by ``draw`` in [0, 1)."""
        k = min(NEIGHBOURS, len(self.anchors))
        centre = int(np.searchsorted(self.anchors, final))
        low = min(max(centre - k // 2, 0), len(self.anchors) - k)
        return low + min(int(draw * k), k - 1)

    def add(self, raw: np.ndarray, gap: float, draw: float) -> tuple[np.ndarray, float]:
        """A raw predicted curve and gap with the residuals of the neighbour ``draw`` picks:
        the curve, each epoch within ``bounds``, and the test value, within ``test_bounds``."""
        j = self.neighbour(float(raw[-1]), draw)
        curve = np.clip(raw + self.curves[j], self.bounds[0], self.bounds[1])
        test = float(np.clip(curve[-1] + gap + self.gaps[j], *self.test_bounds))
        return curve.astype(float), test

    def save(self, path: Path) -> None:
        """Write them as JSON, one configuration's residual curve per line."""
        curves = ",\n    ".join(json.dumps(row.tolist()) for row in self.curves)
        parts = [f'  "{name}": {json.dumps(getattr(self, name).tolist())}'
                 for name in _RESIDUAL_FIELDS if name != "curves"]  # fmt: skip
        path.write_text("{\n" + ",\n".join([*parts, f'  "curves": [\n    {curves}\n  ]']) + "\n}\n")

    @classmethod
    def load(cls, path: Path, epochs: int) -> Residuals:
        """What ``save`` wrote. Raises ValueError (OSError for no file) for one that is not
        ``epochs`` finite residuals of each configuration with ascending anchors."""
        saved = json.loads(path.read_text())
        found = cls(**{name: np.asarray(saved[name], dtype=float) for name in _RESIDUAL_FIELDS})
        n = len(found.anchors)
        shapes = [a.shape for a in (found.curves, found.gaps, found.bounds, found.test_bounds)]
        if (
            n == 0
            or shapes != [(n, epochs), (n,), (2, epochs), (2,)]
            or not all(np.isfinite(getattr(found, name)).all() for name in _RESIDUAL_FIELDS)
            or np.any(np.diff(found.anchors) < 0)
        ):
            raise ValueError(f"{path.name}: not {epochs} finite residuals of each configuration")
        return found


_RESIDUAL_FIELDS = ("anchors", "curves", "gaps", "bounds", "test_bounds")


def _draw(values: dict[str, Any]) -> float:
    """A number in [0, 1) fixed by a configuration's plain values (the same in every
    process; ``plain_config`` gives them, as recordings store them)."""
    return _draw_key(json.dumps(values, sort_keys=True))


def _draw_key(key: str) -> float:
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


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


def _residual_report(
    predicted: np.ndarray, recorded: np.ndarray, residuals: Residuals, keys: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """How the recorded configurations' curves spread and cross: the standard deviation of
    the final value, and the Spearman correlation of epoch 1 (and 3, 9) with the last, for the
    recorded curves, the out-of-fold predictions, and those predictions with drawn residuals
    (each configuration drawing as a new one would, by its own values' key)."""
    drawn = [
        residuals.add(curve, 0.0, _draw_key(key))[0]
        for curve, key in zip(predicted, keys, strict=True)
    ]
    report = {}
    for name, curves in (
        ("recorded", recorded),
        ("predicted", predicted),
        ("drawn", np.array(drawn)),
    ):
        found: dict[str, float | None] = {"std_final": float(np.std(curves[:, -1]))}
        for e in report_epochs(curves.shape[1])[:-1]:
            found[f"spearman_{e}_last"] = _agreement(curves[:, -1], curves[:, e - 1])["spearman"]
        report[name] = found
    return report


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
    gaps = tests - curves[:, -1]
    gap_oof = _out_of_fold(vectors, gaps, keys, settings)
    test_oof = _clip(oof[:, -1] + gap_oof, maximize)
    residuals = Residuals.fit(oof, curves, gaps - gap_oof, tests)
    crashed = [r for r in recordings if not r.ok]
    quality: dict[str, Any] = {
        "configs_ok": len(ok),
        "configs_crashed": len(crashed),
        "n_splits": min(N_SPLITS, distinct),
        "objective": objective,
        "spearman_final": objective[-1]["spearman"],
        "residuals": _residual_report(oof, curves, residuals, keys),
        "cost": _agreement(log_seconds, cost_oof),
        "test": _agreement(tests, test_oof),
    }

    boosters = {
        "objective": _fit(rows, curves.ravel(), settings),
        "cost": _fit(vectors, log_seconds, settings),
        "gap": _fit(vectors, gaps, settings),
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
        residuals=residuals,
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
