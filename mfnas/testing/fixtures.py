"""Session fixtures the suites share: recorded toy curves and the two toy replay tasks.

A pytest plugin: register it in the ``conftest.py`` of the tests that subclass a suite with
``pytest_plugins = ["mfnas.testing.fixtures"]``. Each fixture is built once per session:

- ``toy_prior``: full-fidelity toy curves, the ``problem.prior`` of strategies that use one;
- ``toy_table``: a tabular replay of 40 toy configurations recorded with ``mfnas.collect``;
- ``toy_surrogate``: a small XGBoost surrogate fitted on that table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mfnas.cli.collect import main as collect_main
from mfnas.data.fashion_mnist import FashionMNIST
from mfnas.data.newsgroups import Corpus
from mfnas.replay.surrogate import SurrogateTask, fit_surrogate
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import plain_config
from mfnas.strategies import STRATEGIES
from mfnas.strategies.base import PriorCurve
from mfnas.strategies.configs import sample_config
from mfnas.tasks.toy import ToyTask


def record_prior(task: ToyTask, n: int = 24, seed: int = 0) -> tuple[PriorCurve, ...]:
    """Full-fidelity validation curves of ``n`` sampled toy configurations: a prior."""
    rng = np.random.default_rng(seed)
    configs = [sample_config(task.space, rng) for _ in range(n)]
    return tuple(
        PriorCurve(plain_config(c), task.evaluate(c, task.max_epochs, seed).curve) for c in configs
    )


def prior_for(name: str, prior: tuple[PriorCurve, ...]) -> tuple[PriorCurve, ...]:
    """``prior`` for a strategy that uses one, else nothing (as the bench gives them)."""
    return prior if STRATEGIES[name].uses_prior else ()


def record_toy_table(folder: Path, configs: int = 40) -> TabularTask:
    """Record ``configs`` toy configurations into ``folder`` (``python -m mfnas.collect``) and
    replay them."""
    args = ["--task", "toy", "--configs", str(configs), "--out", str(folder), "--quiet"]
    if collect_main(args) != 0:
        raise RuntimeError(f"mfnas.collect {' '.join(args)} failed")
    return TabularTask.from_folder(folder)


def fit_toy_surrogate(table: TabularTask) -> SurrogateTask:
    """A small XGBoost surrogate (20 trees of depth 3) of a recorded toy ``table``."""
    surrogate, _ = fit_surrogate(
        table.recordings, table.space, table.max_epochs, table.metric, table.maximize,
        params={"n_estimators": 20, "max_depth": 3},
    )  # fmt: skip
    return SurrogateTask(surrogate, "toy-surrogate")


@pytest.fixture(scope="session")
def toy_prior() -> tuple[PriorCurve, ...]:
    return record_prior(ToyTask())


@pytest.fixture(scope="session")
def toy_table(tmp_path_factory: pytest.TempPathFactory) -> TabularTask:
    return record_toy_table(tmp_path_factory.mktemp("toy-curves"))


@pytest.fixture(scope="session")
def toy_surrogate(toy_table: TabularTask) -> SurrogateTask:
    return fit_toy_surrogate(toy_table)


def synthetic_ratings(n_users: int = 40, n_items: int = 50, seed: int = 0) -> np.ndarray:
    """About half of an ``n_users x n_items`` matrix rated 1..5 from a rank-2 model plus noise,
    as (user, item, rating, timestamp) rows with 1-based ids like MovieLens."""
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.5)
    taste = rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items))
    stars = np.clip(np.rint(3 + taste[users, items] + rng.normal(0, 0.5, len(users))), 1, 5)
    timestamps = rng.integers(0, 10**9, len(users))
    return np.stack([users + 1, items + 1, stars, timestamps], axis=1).astype(np.int64)


def synthetic_corpus(per_group: int = 16, seed: int = 0) -> Corpus:
    """20 Newsgroups' layout (20 groups of lower-case documents) with random words; each
    group's words are drawn more often from its own slice of a 200-word vocabulary."""
    rng = np.random.default_rng(seed)
    words = [f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(200)]  # letters only
    groups = tuple(f"group.{g:02d}" for g in range(20))

    def document(g: int) -> str:
        own = rng.choice(words[g * 10 : g * 10 + 10], size=8)
        return " ".join([*own, *rng.choice(words, size=int(rng.integers(4, 40)))])

    train = sorted((group, document(g)) for g, group in enumerate(groups) for _ in range(per_group))
    test = sorted((group, document(g)) for g, group in enumerate(groups) for _ in range(4))
    return Corpus(train, test, groups, "synthetic")


def synthetic_fashion(n_train: int = 200, n_test: int = 50, seed: int = 0) -> FashionMNIST:
    """Fashion-MNIST's layout (28x28 uint8 images, 10 balanced classes) with random pixels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n_train + n_test, 28, 28), dtype=np.uint8)
    labels = (np.arange(n_train + n_test) % 10).astype(np.uint8)
    return FashionMNIST(images[:n_train], labels[:n_train], images[n_train:], labels[n_train:], "")
