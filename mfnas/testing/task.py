"""The Task suite: a task keeps the Task contract of ``mfnas.tasks.base``.

What it proves, with one configuration (fixture ``config``) trained for the task's
``min_epochs`` ("short") and ``max_epochs`` ("long") with one seed:

- ``evaluate`` refuses epochs outside ``[min_epochs, max_epochs]`` with ValueError before any
  work (its hook ``_evaluate`` is never called);
- a Result has one curve point per epoch (and per-epoch seconds, when given), finite values in
  the objective's range (maximised: [0, 1]; minimised: non-negative), ``val`` holding the
  metric at the curve's last point, and ``test`` holding it at full fidelity (below it, test
  may be None);
- the same (config, epochs, seed) gives the same curve, validation and test metrics (on CPU);
- the first ``short`` epochs of the long training equal the short training: training is
  seeded per configuration and seed, with no schedule depending on the total epochs;
- continuing the short training (its ``Checkpoint``, the state passed through a pickle as a
  checkpoint file holds it) to the long one gives the long training's curve, validation and
  test metrics and training losses exactly (bitwise on CPU) and says where it continued from;
  a trained task keeps its training state only when asked;
- the task pickles (Dask sends it to workers), a trained task without its caches, and the
  unpickled copy evaluates alike;
- ``space`` is the space the task declares (fixture ``declared_space``: by default its
  ``spaces/<name>.yaml``), every hyperparameter is active in some sampled configuration and
  every conditioned one inactive in another, and sampled configurations are valid;
- ``references()`` has the documented shape: ``{name: {"val": metrics, "test": metrics, ...}}``
  with finite metrics that include the objective;
- the crashing configurations the subclass declares (fixture ``crashes``) raise, rather than
  return garbage.

Subclass it in a test module and provide the fixture ``task`` (class-scoped, so that what a
trained task loads is loaded once per class); keep trained tasks small (toy data, a
``max_epochs`` of 2, a cheap ``config``)::

    class TestToy(TaskSuite):
        @pytest.fixture(scope="class")
        def task(self) -> Task:
            return make_task("toy")

Override ``config`` for a cheaper configuration than the sampled one, ``declared_space`` for a
task whose space is not ``spaces/<name>.yaml``, and ``crashes`` to list configurations that
must raise.
"""

from __future__ import annotations

import math
import pickle
from typing import ClassVar

import numpy as np
import pytest
from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.replay.base import ReplayTask
from mfnas.spaces import load_space
from mfnas.strategies.configs import sample_config
from mfnas.tasks.base import Checkpoint, Result, Task, TrainedTask

#: (configuration, epochs, seed, the exception ``evaluate`` raises for it)
Crash = tuple[Configuration, int, int, type[Exception]]


def check_result(task: Task, result: Result, epochs: int) -> None:
    """Assert that ``result`` of ``epochs`` epochs keeps the Result contract for ``task``."""
    assert result.epochs == epochs and len(result.curve) == epochs
    assert not result.epoch_seconds or len(result.epoch_seconds) == epochs
    assert result.seconds >= 0 and all(type(v) is float for v in result.curve)
    assert result.is_finite()
    assert result.val[task.metric] == result.curve[-1]
    if task.maximize:
        assert all(0.0 <= v <= 1.0 for v in result.curve)
    else:
        assert all(v >= 0.0 for v in result.curve)
    if epochs == task.max_epochs:
        assert result.test is not None, "test metrics are given at full fidelity"
    if result.test is not None:
        assert task.metric in result.test


def same(first: Result, second: Result) -> bool:
    """True when two results hold the same curve and validation and test metrics."""
    return (first.curve, first.val, first.test) == (second.curve, second.val, second.test)


class TaskSuite:
    """The Task contract (module docstring); subclasses provide the fixture ``task``."""

    seed: ClassVar[int] = 3  # the training seed of every evaluation
    samples: ClassVar[int] = 64  # configurations sampled to check the space

    @pytest.fixture(scope="class")
    @classmethod
    def task(cls) -> Task:
        raise NotImplementedError("a TaskSuite subclass provides the fixture task")

    @pytest.fixture(scope="class")
    @classmethod
    def config(cls, task: Task) -> Configuration:
        """A sampled configuration (its values are numpy scalars, as strategies give them)."""
        return sample_config(task.space, np.random.default_rng(0))

    @pytest.fixture(scope="class")
    @classmethod
    def declared_space(cls, task: Task) -> ConfigurationSpace:
        return load_space(task.name)

    @pytest.fixture(scope="class")
    @classmethod
    def crashes(cls) -> list[Crash]:
        return []

    @pytest.fixture(scope="class")
    @classmethod
    def runs(cls, task: Task, config: Configuration) -> dict[str, Result]:
        """The evaluations the checks compare: ``short`` and ``long``, ``long`` ``again``, and
        ``long`` on an unpickled copy of the task (``revived``)."""
        short, long = task.min_epochs, task.max_epochs
        return {
            "short": task.evaluate(config, short, cls.seed, keep=True),
            "long": task.evaluate(config, long, cls.seed),
            "again": task.evaluate(config, long, cls.seed),
            "revived": pickle.loads(pickle.dumps(task)).evaluate(config, long, cls.seed),
        }

    def test_epochs_outside_the_range_are_refused_before_any_work(
        self, task: Task, config: Configuration, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse(*args: object) -> Result:
            raise AssertionError("_evaluate was called")

        monkeypatch.setattr(task, "_evaluate", refuse)
        for epochs in (task.min_epochs - 1, task.max_epochs + 1, 0, -1):
            with pytest.raises(ValueError, match="epochs must be in"):
                task.evaluate(config, epochs, self.seed)

    def test_results_keep_the_result_contract(self, task: Task, runs: dict[str, Result]) -> None:
        check_result(task, runs["short"], task.min_epochs)
        check_result(task, runs["long"], task.max_epochs)

    def test_the_same_evaluation_gives_the_same_result(self, runs: dict[str, Result]) -> None:
        assert same(runs["again"], runs["long"])

    def test_a_shorter_training_is_a_prefix_of_a_longer_one(
        self, task: Task, runs: dict[str, Result]
    ) -> None:
        assert runs["long"].curve[: task.min_epochs] == runs["short"].curve

    def test_continuing_a_training_gives_the_training_from_scratch(
        self, task: Task, config: Configuration, runs: dict[str, Result]
    ) -> None:
        short, long = runs["short"], runs["long"]
        if short.epochs == long.epochs:
            pytest.skip("the task has one fidelity only")
        start = Checkpoint(short.for_strategy(), pickle.loads(pickle.dumps(short.state)))
        continued = task.evaluate(config, long.epochs, self.seed, start, keep=True)
        assert same(continued, long)
        assert continued.extra.get("train_loss") == long.extra.get("train_loss")
        assert continued.continued_from == short.epochs
        assert continued.charged_epochs == long.epochs - short.epochs
        assert len(continued.epoch_seconds) in (0, long.epochs)
        if not isinstance(task, ReplayTask):  # replayed curves need no state
            assert long.state is None and continued.state is not None

    def test_the_task_pickles_and_its_copy_evaluates_alike(
        self, task: Task, runs: dict[str, Result]
    ) -> None:
        assert same(runs["revived"], runs["long"])
        if isinstance(task, TrainedTask):  # what it loaded stays behind
            revived = pickle.loads(pickle.dumps(task))
            assert all(getattr(revived, name) is None for name in task.cached)

    def test_the_space_is_the_declared_one_and_its_conditions_work(
        self, task: Task, declared_space: ConfigurationSpace
    ) -> None:
        space = task.space
        assert isinstance(space, ConfigurationSpace) and space == declared_space
        rng = np.random.default_rng(0)
        configs = [sample_config(space, rng) for _ in range(self.samples)]
        for config in configs:
            config.check_valid_configuration()
        active = [set(dict(config)) for config in configs]
        assert set().union(*active) == set(space), "every hyperparameter is active somewhere"
        conditioned = {condition.child.name for condition in space.conditions}
        assert conditioned <= set(space)
        for name in conditioned:
            assert any(name not in values for values in active), f"{name} is never inactive"

    def test_references_have_the_documented_shape(self, task: Task) -> None:
        rows = task.references()
        assert isinstance(rows, dict)
        for name, row in rows.items():
            assert isinstance(name, str) and {"val", "test"} <= set(row)
            for metrics in (row["val"], row["test"]):
                assert task.metric in metrics
                assert all(isinstance(v, float) and math.isfinite(v) for v in metrics.values())

    def test_crashing_configurations_raise(self, task: Task, crashes: list[Crash]) -> None:
        if not crashes:
            pytest.skip("the task declares no crashing configuration")
        for config, epochs, seed, error in crashes:
            with pytest.raises(error):
                task.evaluate(config, epochs, seed)
