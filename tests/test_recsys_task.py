"""The recsys trainer and task on a small synthetic split (plus one real-data smoke test)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mfnas.data.movielens import DataError, load_ml100k
from mfnas.tasks.base import Checkpoint, Result
from mfnas.tasks.recsys import RecsysConfig, RecsysTask, Trainer, build_model, split_interactions
from mfnas.tasks.recsys.metrics import metric_names
from mfnas.tasks.recsys.models import FastDropout
from mfnas.tasks.recsys.split import Split
from mfnas.tasks.recsys.train import _full_softmax

CPU = torch.device("cpu")
BASE = {
    "embedding_dim": 8,
    "init_std": 0.1,
    "loss": "bpr",
    "num_negatives": 2,
    "optimizer": "adam",
    "learning_rate": 0.01,
    "weight_decay": 1e-6,
    "batch_size": 64,
}
TOWER = {"mlp_layers": 2, "mlp_width": 16, "mlp_activation": "gelu", "mlp_dropout": 0.2}
CONFIGS = {
    "mf": {"model": "mf"},
    "gmf-bce-adagrad": {"model": "gmf", "loss": "bce", "optimizer": "adagrad"},
    "mlp-softmax": {"model": "mlp", "loss": "softmax", **TOWER},
    "neumf": {"model": "neumf", **TOWER, "mlp_activation": "tanh"},
    "lightgcn": {"model": "lightgcn", "gcn_layers": 2},
    "mf-full-softmax": {"model": "mf", "loss": "full-softmax", "num_negatives": None},
    "neumf-full-softmax": {"model": "neumf", **TOWER, "loss": "full-softmax",
                           "num_negatives": None},
    "multdae": {"model": "multdae", "user_batch_size": 8, "ae_layers": 2, "ae_width": 16,
                "ae_activation": "tanh", "ae_dropout": 0.5},
    "multvae": {"model": "multvae", "user_batch_size": 8, "ae_layers": 1, "ae_width": 16,
                "ae_activation": "relu", "ae_dropout": 0.2, "vae_latent": 4, "vae_beta": 0.5,
                "vae_anneal_steps": 3},
    "dlae": {"model": "dlae", "user_batch_size": 16, "dlae_dropout": 0.5, "dlae_l2": 1.0},
}  # fmt: skip
AUTOENCODER_UNUSED = dict.fromkeys(["embedding_dim", "init_std", "loss", "num_negatives",
                                    "batch_size"])  # fmt: skip


@pytest.fixture(scope="module")
def split() -> Split:
    """40 users with 12-24 of 50 items each, split 80/10/10."""
    rng = np.random.default_rng(0)
    pairs = [
        (user, item)
        for user in range(40)
        for item in rng.choice(50, size=rng.integers(12, 25), replace=False)
    ]
    return split_interactions(np.array(pairs))


@pytest.fixture(scope="module")
def trainer(split: Split) -> Trainer:
    return Trainer(split, CPU)


def _config(name: str, **changes: object) -> RecsysConfig:
    unused = AUTOENCODER_UNUSED if "user_batch_size" in CONFIGS[name] else {}
    return RecsysConfig.from_mapping({**BASE, **unused, **CONFIGS[name], **changes})


def _check(result: Result, epochs: int) -> None:
    assert len(result.curve) == len(result.epoch_seconds) == result.epochs == epochs
    assert set(result.val) == set(result.test or {}) == set(metric_names(10))
    assert result.is_finite()
    assert all(0.0 <= v <= 1.0 for v in [*result.curve, *result.val.values()])
    assert all(0.0 <= v <= 1.0 for v in (result.test or {}).values())
    assert result.curve[-1] == result.val["ndcg@10"]
    assert result.seconds >= sum(result.epoch_seconds) > 0


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_model_trains_and_reports(trainer: Trainer, name: str) -> None:
    _check(trainer.run(_config(name), epochs=2, seed=0), epochs=2)


@pytest.mark.parametrize("name", ["neumf", "lightgcn", "multvae", "dlae"])
def test_same_seed_gives_the_same_result(trainer: Trainer, name: str) -> None:
    first, again = (trainer.run(_config(name), epochs=2, seed=3) for _ in range(2))
    assert first.curve == again.curve
    assert first.test == again.test
    assert first.extra["train_loss"] == again.extra["train_loss"]
    other = trainer.run(_config(name), epochs=2, seed=4)
    assert other.extra["train_loss"] != first.extra["train_loss"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_model_continues_bitwise_like_a_training_from_scratch(
    trainer: Trainer, name: str
) -> None:
    """1 epoch, continued to 2, then to 4 (the state through a pickle, as in a checkpoint file)
    equals 4 epochs from scratch: curve, metrics and losses, to the last bit on CPU."""
    config, fresh = _config(name), trainer.run(_config(name), epochs=4, seed=5)
    result = trainer.run(config, epochs=1, seed=5)
    for epochs in (2, 4):
        start = Checkpoint(result.for_strategy(), pickle.loads(pickle.dumps(result.state)))
        result = trainer.run(config, epochs=epochs, seed=5, start=start)
        assert result.continued_from == start.epochs
    assert result.curve == fresh.curve and result.val == fresh.val and result.test == fresh.test
    assert result.extra["train_loss"] == fresh.extra["train_loss"]
    assert len(result.epoch_seconds) == 4


def test_the_vae_anneals_its_kl_weight_over_updates_and_keeps_the_count(trainer) -> None:
    """multvae's update count is part of its state: a continued training anneals on."""
    result = trainer.run(_config("multvae"), epochs=2, seed=0)
    updates = int(result.state["model"]["updates"])
    assert updates == 2 * math.ceil(40 / 8)  # 40 users, 8 per batch, 2 epochs
    assert "rows" not in result.state["model"]  # the data is not part of a checkpoint


def test_autoencoders_score_from_the_training_rows(split: Split) -> None:
    model = build_model(_config("dlae"), split.n_users, split.n_items, split.train)
    with torch.no_grad():
        model.weights.copy_(torch.eye(split.n_items))  # the identity reconstructs the input
        scores = model.score_all(torch.arange(split.n_users))
    seen = torch.zeros(split.n_users, split.n_items)
    seen[split.train[:, 0], split.train[:, 1]] = 1.0
    assert torch.equal(scores, seen)


def test_the_full_softmax_scores_each_user_of_a_batch_once(trainer: Trainer, split: Split) -> None:
    """The full softmax's batches take the pairs user by user, so the users scored against
    every item number the users plus at most one per batch boundary (several times more with
    the pairs in random order), and a batch's loss is the per-pair cross-entropy over all items."""
    config = _config("neumf-full-softmax")
    model = build_model(config, split.n_users, split.n_items, split.train)
    score_all, scored = model.score_all, []
    model.score_all = lambda users: (scored.append(len(users)), score_all(users))[1]
    steps = trainer._pair_steps(model, config, torch.Generator().manual_seed(0))
    for step in steps:
        step()
    assert len(steps) > 5
    assert sum(scored) <= split.n_users + len(steps) - 1
    users, positives = torch.tensor([3, 1, 3, 3, 0]), torch.tensor([5, 7, 9, 5, 2])
    model.eval()  # no dropout: the two computations see the same tower
    assert torch.allclose(
        _full_softmax(model, users, positives), F.cross_entropy(score_all(users), positives)
    )


def test_non_finite_loss_raises(trainer: Trainer) -> None:
    with pytest.raises(FloatingPointError):
        trainer.run(_config("mf", init_std=1e25), epochs=1, seed=0)


def test_score_all_agrees_with_score_pairs() -> None:
    # 300 items: 2 items per user are gathered, 5 are picked from a product with every item.
    n_users, n_items = 20, 300
    train = np.stack([np.arange(n_items) % n_users, np.arange(n_items)], axis=1)
    users = torch.arange(n_users)
    for name in CONFIGS:
        model = build_model(_config(name), n_users, n_items, train).eval()
        with torch.no_grad():
            full = model.score_all(users)
            assert full.shape == (n_users, n_items)
            for m in (2, 5):
                items = torch.arange(10, 10 + m).expand(n_users, m)
                pairs = model.score_pairs(users, items)
                assert torch.allclose(full[:, 10 : 10 + m], pairs, atol=1e-5), (name, m)
            single = model.score_pairs(users, torch.full((n_users,), 7))
            assert torch.allclose(full[:, 7], single, atol=1e-5), name


def _dense_lightgcn_tables(model: torch.nn.Module, split: Split, layers: int) -> tuple:
    """LightGCN's tables from the dense normalised adjacency, as the paper writes them."""
    users, items = (torch.as_tensor(split.train[:, k]) for k in (0, 1))
    user_deg = torch.bincount(users, minlength=split.n_users).float()
    item_deg = torch.bincount(items, minlength=split.n_items).float()
    norm = torch.zeros(split.n_users, split.n_items)
    norm[users, items] = (user_deg[users] * item_deg[items]).rsqrt()
    user, item = model.users.weight, model.items.weight
    user_sum, item_sum = user, item
    for _ in range(layers):
        user, item = norm @ item, norm.T @ user
        user_sum, item_sum = user_sum + user, item_sum + item
    return user_sum / (layers + 1), item_sum / (layers + 1)


def test_lightgcn_propagation_matches_the_dense_definition(split: Split) -> None:
    model = build_model(
        _config("lightgcn", gcn_layers=3), split.n_users, split.n_items, split.train
    )
    weights = [torch.randn(n, 8) for n in (split.n_users, split.n_items)]
    results = []
    for tables in (_dense_lightgcn_tables(model, split, 3), model.tables()):
        model.zero_grad()
        sum((t * w).sum() for t, w in zip(tables, weights, strict=True)).backward()
        grads = [p.grad.clone() for p in (model.users.weight, model.items.weight)]
        results.append([*(t.detach() for t in tables), *grads])
    for dense, sparse in zip(*results, strict=True):
        assert torch.allclose(dense, sparse, atol=1e-6)


def test_fast_dropout_drops_p_and_keeps_the_mean() -> None:
    dropout = FastDropout(0.3)
    x = torch.ones(200_000)
    y = dropout(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert y.mean().item() == pytest.approx(1.0, abs=0.02)
    assert dropout.eval()(x) is x


def test_embeddings_start_from_init_std(split: Split) -> None:
    model = build_model(_config("mf", embedding_dim=64, init_std=0.03), 1000, 1000, split.train)
    assert model.users.weight.std().item() == pytest.approx(0.03, rel=0.05)


def test_config_conversion_and_errors() -> None:
    config = RecsysConfig.from_mapping(
        {**BASE, "model": "mlp", "mlp_width": np.int64(32), "loss": np.str_("bce")}
    )
    assert type(config.mlp_width) is int and type(config.loss) is str
    with pytest.raises(ValueError, match="unknown"):
        RecsysConfig.from_mapping({**BASE, "model": "mf", "colour": 1})
    with pytest.raises(ValueError, match="mlp_layers"):
        build_model(config, 3, 3, np.zeros((0, 2), dtype=np.int64))


def test_task_contract_with_an_injected_split(split: Split) -> None:
    task = RecsysTask(device="cpu", max_epochs=9)
    assert (task.name, task.metric, task.maximize, task.min_epochs) == (
        "recsys",
        "ndcg@10",
        True,
        1,
    )
    assert task.max_epochs == 9 and RecsysTask().max_epochs == RecsysTask.max_epochs
    assert pickle.loads(pickle.dumps(task)).split_seed == 0  # picklable before first use
    task._split = split  # stands in for MovieLens-100K
    space = task.space
    for seed in range(3):  # sampled configurations carry numpy scalar values
        space.seed(seed)
        config = space.sample_configuration()
        _check(task.evaluate(config, 1, seed), epochs=1)
    revived = pickle.loads(pickle.dumps(task))
    assert revived._split is None and revived._trainer is None  # caches stay behind


@pytest.fixture()
def offline_movielens() -> None:
    """Skip unless MovieLens-100K loads without a download (cache or MFNAS_DATA_DIR)."""
    try:
        load_ml100k(download=False)
    except DataError as exc:
        pytest.skip(f"MovieLens-100K is not available offline: {exc}")


@pytest.mark.usefixtures("offline_movielens")
def test_default_mf_on_movielens_for_one_epoch() -> None:
    task = RecsysTask(device="cpu")
    split = task.split
    assert (split.n_users, split.n_items) == (943, 1682)
    assert (len(split.train), len(split.val), len(split.test)) == (80808, 9596, 9596)
    result = task.evaluate(task.space.get_default_configuration(), 1, 0)
    _check(result, epochs=1)
    assert math.isfinite(result.objective)
