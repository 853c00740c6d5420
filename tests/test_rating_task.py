"""The recsys-rating task on small synthetic ratings (plus a real-data split and bench run)."""

from __future__ import annotations

import csv
import json
import math
import pickle

import numpy as np
import pytest
import torch

from mfnas.cli.bench import main as bench
from mfnas.cli.evaluate import main as evaluate
from mfnas.data.movielens import DataError, load_ml100k
from mfnas.tasks import make_task
from mfnas.tasks.base import Checkpoint
from mfnas.tasks.rating import (
    RatingConfig,
    RatingEvaluator,
    RatingTask,
    build_rating_model,
    fit_biases,
    rating_folds,
    rating_metrics,
    split_ratings,
)
from mfnas.testing.fixtures import synthetic_ratings

CPU = torch.device("cpu")
TOWER = {"mlp_layers": 2, "mlp_width": 16, "mlp_activation": "gelu", "mlp_dropout": 0.2}
BASE = {
    "model": "mf",
    "embedding_dim": 8,
    "init_std": 0.1,
    "optimizer": "adam",
    "learning_rate": 0.01,
    "weight_decay": 1e-5,
    "batch_size": 64,
}


@pytest.fixture(scope="module")
def task() -> RatingTask:
    """The task with synthetic ratings injected in place of MovieLens-100K."""
    task = RatingTask(device="cpu")
    task._ratings = synthetic_ratings()
    return task


def pairs(rows: np.ndarray) -> set[tuple[int, int]]:
    return {(int(u), int(i)) for u, i in rows[:, :2]}


def test_split_sizes_disjoint_and_fixed_by_its_seed() -> None:
    ratings = synthetic_ratings()
    split = split_ratings(ratings, seed=0)
    n = len(ratings)
    assert (len(split.val), len(split.test)) == (round(0.1 * n), round(0.1 * n))
    assert len(split.train) + len(split.val) + len(split.test) == n
    parts = [pairs(split.train), pairs(split.val), pairs(split.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == {(u - 1, i - 1) for u, i in ratings[:, :2]}  # 0-based ids
    assert (split.n_users, split.n_items) == (40, 50)
    shuffled = split_ratings(ratings[np.random.default_rng(1).permutation(n)], seed=0)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(split, part), getattr(shuffled, part))
    assert not np.array_equal(split.val, split_ratings(ratings, seed=1).val)


def test_folds_partition_the_ratings() -> None:
    ratings = synthetic_ratings()
    folds = rating_folds(ratings, 3, seed=0)
    tests = [pairs(f.test) for f in folds]
    assert sum(map(len, tests)) == len(ratings) == len(set().union(*tests))
    assert max(map(len, tests)) - min(map(len, tests)) <= 1
    for fold, test in zip(folds, tests, strict=True):
        assert not pairs(fold.train) & test and len(fold.train) + len(test) == len(ratings)
    with pytest.raises(ValueError, match="folds"):
        rating_folds(ratings, 1)


def test_rmse_and_mae_against_hand_computed_values() -> None:
    predicted, actual = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 3.0, 5.0])
    metrics = rating_metrics(predicted, actual)  # errors 0, -1, -2
    assert metrics == pytest.approx({"rmse": math.sqrt(5 / 3), "mae": 1.0})
    assert rating_metrics(actual, actual) == {"rmse": 0.0, "mae": 0.0}
    with pytest.raises(ValueError):
        rating_metrics(torch.zeros(0), torch.zeros(0))
    # the evaluator clips predictions to 1..5 first: 0 counts as 1, 7 as 5, 4.5 stays
    evaluator = RatingEvaluator(np.array([[0, 0, 1], [0, 1, 5], [1, 0, 3]]), CPU)
    clipped = evaluator(lambda users, items: torch.tensor([0.0, 7.0, 4.5]))
    assert clipped == pytest.approx({"rmse": math.sqrt(1.5**2 / 3), "mae": 0.5})


def test_bias_baseline_closed_form_by_hand() -> None:
    # One user rating two items 2 and 4 (mean 3). The normal equations give b_u = 0 and
    # b_i = (r_i - 3) / (1 + l2): with l2 = 1 the biases are -0.5 and +0.5.
    biases = fit_biases(np.array([[0, 0, 2], [0, 1, 4]]), 1, 2, l2=1.0)
    assert biases.mean == 3.0
    assert biases.user == pytest.approx([0.0])
    assert biases.item == pytest.approx([-0.5, 0.5])
    predicted = biases(torch.tensor([0, 0]), torch.tensor([0, 1]))
    assert predicted.tolist() == pytest.approx([2.5, 3.5])
    with pytest.raises(ValueError):
        fit_biases(np.array([[0, 0, 2]]), 1, 1, l2=0.0)


def test_bias_baseline_solves_its_normal_equations() -> None:
    rows = split_ratings(synthetic_ratings(12, 9)).train
    biases, l2 = fit_biases(rows, 12, 9, l2=2.5), 2.5
    users, items, stars = rows.T
    residual = stars - biases.mean - biases.user[users] - biases.item[items]
    # zero gradient of sum(residual^2) + l2 * (|b_u|^2 + |b_i|^2)
    assert np.bincount(users, residual, 12) == pytest.approx(l2 * biases.user, abs=1e-9)
    assert np.bincount(items, residual, 9) == pytest.approx(l2 * biases.item, abs=1e-9)


@pytest.mark.parametrize("model", ["mf", "gmf", "mlp", "neumf"])
def test_every_model_of_the_space_predicts_one_rating_per_pair(model: str) -> None:
    assert model in RatingTask().space["model"].choices
    config = RatingConfig.from_mapping({**BASE, "model": model, **TOWER})
    net = build_rating_model(config, 5, 7, mean=3.5)
    users, items = torch.tensor([0, 4, 2]), torch.tensor([6, 0, 3])
    predicted = net(users, items)
    assert predicted.shape == (3,) and predicted.dtype == torch.float32
    zero = build_rating_model(RatingConfig.from_mapping({**BASE, "init_std": 1e-12}), 5, 7, 3.5)
    assert zero(users, items).tolist() == pytest.approx([3.5] * 3)  # biases start at 0


def test_task_contract_and_pickling() -> None:
    task = make_task("recsys-rating", device="cpu", max_epochs=9)
    assert isinstance(task, RatingTask)
    assert (task.name, task.metric, task.maximize, task.min_epochs, task.max_epochs) == (
        "recsys-rating",
        "rmse",
        False,
        1,
        9,
    )
    assert RatingTask().max_epochs == 27 and task.direction.better(0.9, 1.0)
    task._ratings = synthetic_ratings()
    _ = task.split  # fills the cache
    revived = pickle.loads(pickle.dumps(task))
    assert (revived._ratings, revived._split, revived._run) == (None, None, None)


def test_sampled_configurations_train_and_report(task: RatingTask) -> None:
    space = task.space
    for seed in range(3):  # sampled configurations carry numpy scalar values
        space.seed(seed)
        result = task.evaluate(space.sample_configuration(), 1, seed)
        assert result.is_finite() and set(result.val) == set(result.test or {}) == {"rmse", "mae"}


def test_evaluate_is_deterministic_and_a_shorter_run_is_a_prefix(task: RatingTask) -> None:
    config = {**BASE, "model": "neumf", **TOWER, "batch_size": 256}  # dropout draws too
    short, long = task.evaluate(config, 3, 7), task.evaluate(config, 5, 7)
    assert long.curve[:3] == short.curve
    assert long.extra["train_loss"][:3] == short.extra["train_loss"]
    again = task.evaluate(config, 3, 7)
    assert (again.curve, again.test) == (short.curve, short.test)
    assert task.evaluate(config, 1, 8).curve[0] != short.curve[0]
    assert long.curve[-1] == long.val["rmse"]
    assert long.extra["train_loss"][-1] < long.extra["train_loss"][0]
    assert set(long.test or {}) == {"rmse", "mae"} and long.test["mae"] <= long.test["rmse"]
    assert len(long.epoch_seconds) == long.epochs == 5 and long.seconds >= sum(long.epoch_seconds)


@pytest.mark.parametrize("model", ["mf", "gmf", "mlp", "neumf"])
def test_every_model_continues_bitwise_like_a_training_from_scratch(
    task: RatingTask, model: str
) -> None:
    config = {**BASE, "model": model, **TOWER, "batch_size": 256}
    fresh = task.evaluate(config, 3, 7)
    short = task.evaluate(config, 1, 7, keep=True)
    state = pickle.loads(pickle.dumps(short.state))  # as a checkpoint file holds it
    continued = task.evaluate(config, 3, 7, Checkpoint(short.for_strategy(), state))
    assert (continued.curve, continued.val, continued.test) == (fresh.curve, fresh.val, fresh.test)
    assert continued.extra["train_loss"] == fresh.extra["train_loss"]
    assert (continued.continued_from, continued.charged_epochs, continued.state) == (1, 2, None)


def test_non_finite_loss_raises(task: RatingTask) -> None:
    with pytest.raises(FloatingPointError):
        task.evaluate({**BASE, "init_std": 1e25}, 1, 0)


def test_cross_validation_on_synthetic_ratings(task: RatingTask) -> None:
    cv = task.cross_validate(BASE, epochs=2, seed=0, folds=3)
    assert (cv["folds"], cv["epochs"], cv["seed"], len(cv["per_fold"])) == (3, 2, 0, 3)
    for name in ("rmse", "mae"):
        values = [fold[name] for fold in cv["per_fold"]]
        assert cv[f"{name}_mean"] == pytest.approx(np.mean(values))
        assert cv[f"{name}_std"] == pytest.approx(np.std(values))
    assert task.cross_validate(BASE, epochs=2, seed=0, folds=3)["per_fold"] == cv["per_fold"]


def test_evaluate_cli_cross_validates(monkeypatch, capsys) -> None:
    monkeypatch.setattr(RatingTask, "ratings", property(lambda self: synthetic_ratings()))
    argv = ["--task", "recsys-rating", "--epochs", "1", "--cv", "2", "--device", "cpu"]
    assert evaluate([*argv, "--config", '{"embedding_dim": 8}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["embedding_dim"] == 8
    assert out["cv"]["folds"] == 2 and math.isfinite(out["cv"]["rmse_mean"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--task", "toy", "--cv", "5"], "no cross-validation"),
     (["--task", "recsys-rating", "--cv", "1"], "at least 2")],
)  # fmt: skip
def test_evaluate_cli_refuses_cv_in_one_line(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        evaluate(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.fixture()
def offline_movielens() -> None:
    """Skip unless MovieLens-100K loads without a download (cache or MFNAS_DATA_DIR)."""
    try:
        load_ml100k(download=False)
    except DataError as exc:
        pytest.skip(f"MovieLens-100K is not available offline: {exc}")


@pytest.mark.usefixtures("offline_movielens")
def test_movielens_split_sizes() -> None:
    split = RatingTask().split
    assert (split.n_users, split.n_items) == (943, 1682)
    assert (len(split.train), len(split.val), len(split.test)) == (80_000, 10_000, 10_000)


@pytest.mark.usefixtures("offline_movielens")
def test_bench_smoke_run_with_a_minimised_metric(tmp_path) -> None:
    argv = ["--task", "recsys-rating", "--strategies", "random", "--budget", "1", "--seeds", "1"]
    assert bench([*argv, "--max-epochs", "2", "--out", str(tmp_path), "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "leaderboard.csv").read_text().splitlines()))
    assert [r["strategy"] for r in rows] == ["random", "reference:global-mean", "reference:biases"]
    assert all(r["metric"] == "rmse" for r in rows)
    assert 0.8 < float(rows[2]["test_mean"]) < float(rows[1]["test_mean"]) < 1.2
    assert "lower is better" in (tmp_path / "leaderboard.md").read_text()
