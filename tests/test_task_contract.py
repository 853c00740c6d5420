"""The Task suite (``mfnas.testing.task``) over every registered task and both replay modes.

The trained tasks train for at most 2 epochs: ``recsys`` and ``recsys-rating`` on synthetic
ratings of 40 users and 50 items served in place of MovieLens-100K, ``image`` on the digits
that ship with scikit-learn and ``fashion`` on random 28x28 images in Fashion-MNIST's place,
both with a small CNN, and ``text`` on random documents in 20 Newsgroups' place. The replay
tasks replay 40 recorded toy configurations (``toy_table``, ``toy_surrogate`` of
``mfnas.testing.fixtures``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ConfigSpace import Configuration, ConfigurationSpace

import mfnas.data.fashion_mnist
import mfnas.data.movielens
import mfnas.data.newsgroups
import mfnas.tasks.fashion.task
import mfnas.tasks.text.task
from mfnas.replay.surrogate import SurrogateTask
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import load_space
from mfnas.tasks import TASKS, Task, make_task
from mfnas.tasks.base import ResultError
from mfnas.testing.fixtures import synthetic_corpus, synthetic_fashion, synthetic_ratings
from mfnas.testing.task import Crash, TaskSuite

SMALL_CNN = {  # a cheap configuration that uses every source of randomness
    "blocks": 1,
    "channels_1": 8,
    "kernel_size": 3,
    "pooling": "max",
    "batch_norm": True,
    "activation": "relu",
    "dropout": 0.3,
    "dense_width": 16,
    "optimizer": "sgd",
    "learning_rate": 0.05,
    "weight_decay": 1e-4,
    "batch_size": 256,
}


@pytest.fixture(scope="module")
def synthetic_movielens() -> Iterator[None]:
    """MovieLens-100K loads as ``synthetic_ratings()``, for the task and its unpickled copies."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mfnas.data.movielens, "load_ml100k", lambda *a, **k: synthetic_ratings())
        yield


@pytest.fixture(scope="module")
def synthetic_fashion_mnist() -> Iterator[None]:
    """Fashion-MNIST loads as ``synthetic_fashion()``, cut 100 train / 50 validation images."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            mfnas.data.fashion_mnist, "load_fashion_mnist", lambda *a: synthetic_fashion()
        )
        patch.setattr(mfnas.tasks.fashion.task, "N_TRAIN", 100)
        patch.setattr(mfnas.tasks.fashion.task, "N_VAL", 50)
        yield


@pytest.fixture(scope="module")
def synthetic_newsgroups() -> Iterator[None]:
    """20 Newsgroups loads as ``synthetic_corpus()``, cut with 60 validation documents."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mfnas.data.newsgroups, "load_newsgroups", lambda *a: synthetic_corpus())
        patch.setattr(mfnas.tasks.text.task, "N_VAL", 60)
        yield


class TestToy(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls) -> Task:
        return make_task("toy")


class TestToyFaulty(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls) -> Task:
        return make_task("toy-faulty")

    @pytest.fixture(scope="class")
    @classmethod
    def declared_space(cls) -> ConfigurationSpace:
        return load_space("toy")  # toy's space, toy's curves, and faults

    @pytest.fixture(scope="class")
    @classmethod
    def config(cls, task: Task) -> Configuration:
        return task.space.get_default_configuration()

    @pytest.fixture(scope="class")
    @classmethod
    def crashes(cls, config: Configuration) -> list[Crash]:
        """Seeds 13 and 6 are among those that fail (the draw is a function of the seed)."""
        return [(config, 1, 13, RuntimeError), (config, 27, 6, ResultError)]


class TestRecsys(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, synthetic_movielens: None) -> Task:
        return make_task("recsys", device="cpu", max_epochs=2)


class TestRecsysRating(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, synthetic_movielens: None) -> Task:
        return make_task("recsys-rating", device="cpu", max_epochs=2)


class TestImage(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls) -> Task:
        return make_task("image", device="cpu", max_epochs=2)

    @pytest.fixture(scope="class")
    @classmethod
    def config(cls, task: Task) -> Configuration:
        return Configuration(task.space, values=SMALL_CNN)

    @pytest.mark.slow  # tunes two scikit-learn models on the digits: about 20 s
    def test_references_have_the_documented_shape(self, task: Task) -> None:
        super().test_references_have_the_documented_shape(task)


class TestFashion(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, synthetic_fashion_mnist: None) -> Task:
        return make_task("fashion", device="cpu", max_epochs=2)

    @pytest.fixture(scope="class")
    @classmethod
    def config(cls, task: Task) -> Configuration:
        return Configuration(task.space, values={**SMALL_CNN, "batch_size": 32})


class TestText(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, synthetic_newsgroups: None) -> Task:
        return make_task("text", device="cpu", max_epochs=2)


class TestTabularReplay(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, toy_table: TabularTask) -> Task:
        return toy_table


class TestSurrogateReplay(TaskSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, toy_surrogate: SurrogateTask) -> Task:
        return toy_surrogate


def test_every_registered_task_has_its_suite() -> None:
    covered = {"toy", "toy-faulty", "recsys", "recsys-rating", "image", "fashion", "text"}
    assert set(TASKS) == covered, "a registered task gets a TaskSuite subclass here"
