"""The peers from their own libraries (``mfnas[peers]``): the ConfigSpace -> syne-tune
translation, how the adapters drive DEHB and syne-tune (rungs, continuation, seeding), and a
peer that is not installed.

The contract itself (valid proposals, budgets, seeds, every mode) is the Strategy suite's
(``tests/test_conformance.py``), which covers the peers too.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    Constant,
    Float,
    Integer,
    OrdinalHyperparameter,
)
from test_optuna_space import conditional_space

import mfnas.strategies as registry
from mfnas.cli.bench import main
from mfnas.execution.runner import run_study
from mfnas.spaces import load_space
from mfnas.store import Status, Store
from mfnas.strategies import STRATEGIES, MissingExtraError, Problem, installed, make_strategy
from mfnas.tasks.toy import ToyTask
from mfnas.testing.strategy import drive

peers = pytest.mark.peers


def _needs(module: str) -> None:
    pytest.importorskip(module, reason=f'{module} comes with pip install "mfnas[peers]"')


# ---- a peer that is not installed ---------------------------------------------------------


@pytest.fixture
def dehb_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as where the peers extra is not installed: dehb needs a missing module."""
    entry = registry._REGISTERED["dehb"]
    absent = registry.Registered(entry.module, entry.cls, entry.extra, ("mfnas_no_such_module",))
    monkeypatch.setitem(registry._REGISTERED, "dehb", absent)


def test_a_peer_not_installed_is_listed_and_its_lookup_names_the_extra(dehb_absent) -> None:
    assert "dehb" in STRATEGIES and not installed("dehb")
    assert "dehb" not in STRATEGIES.installed_names()
    with pytest.raises(MissingExtraError, match=r'pip install "mfnas\[peers\]"'):
        STRATEGIES["dehb"]


def test_a_run_asking_for_a_missing_peer_stops_with_one_line(dehb_absent, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        main(["--task", "toy", "--strategies", "random,dehb", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and not out.exists()
    assert len(err.splitlines()) == 1
    assert "'dehb' needs mfnas_no_such_module" in err and 'pip install "mfnas[peers]"' in err


def test_all_leaves_out_a_missing_peer_and_says_so(dehb_absent, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["--task", "toy", "--strategies", "all", "--budget", "1", "--seeds", "1",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    (note,) = [line for line in capsys.readouterr().err.splitlines() if "not installed" in line]
    assert note.startswith("note: ") and "dehb" in note.split("left out")[0]
    assert "dehb" not in (out / "leaderboard.csv").read_text()


# ---- ConfigSpace -> syne-tune --------------------------------------------------------------


@peers
def test_each_hyperparameter_type_becomes_its_syne_tune_domain() -> None:
    _needs("syne_tune")
    from syne_tune.config_space import Categorical as StCategorical
    from syne_tune.config_space import Float as StFloat
    from syne_tune.config_space import Integer as StInteger
    from syne_tune.config_space import is_log_space

    from mfnas.strategies.syne_tune_space import translate

    space = ConfigurationSpace(
        {
            "lr": Float("lr", (1e-4, 1e-1), log=True),
            "x": Float("x", (0.0, 1.0)),
            "n": Integer("n", (1, 64), log=True),
            "k": Integer("k", (2, 5)),
            "c": Categorical("c", ["a", "b"]),
            "w": OrdinalHyperparameter("w", [8, 16, 32]),
            "z": Constant("z", "fixed"),
        }
    )
    domains = translate(space)
    assert isinstance(domains["lr"], StFloat) and is_log_space(domains["lr"])
    assert (domains["lr"].lower, domains["lr"].upper) == (1e-4, 1e-1)
    assert isinstance(domains["x"], StFloat) and not is_log_space(domains["x"])
    assert isinstance(domains["n"], StInteger) and is_log_space(domains["n"])
    assert (domains["k"].lower, domains["k"].upper) == (2, 5)  # both bounds included
    assert isinstance(domains["c"], StCategorical) and domains["c"].categories == ["a", "b"]
    assert domains["w"].categories == [8, 16, 32]
    assert domains["z"] == "fixed"


@peers
@pytest.mark.parametrize("conjunction", ["and", "or"])
def test_syne_tune_values_keep_only_the_active_hyperparameters(conjunction) -> None:
    _needs("syne_tune")
    from mfnas.strategies.syne_tune_space import to_configuration, translate

    space = conditional_space(conjunction)
    domains = translate(space)
    assert set(domains) == set(space)  # syne-tune samples every one, conditional ones too
    state = np.random.RandomState(0)
    seen = set()
    for _ in range(60):
        values = {name: d.sample(random_state=state) for name, d in domains.items()}
        config = to_configuration(space, values)
        arch, flag = values["arch"], values["flag"]
        assert ("only_a" in config) == (arch == "a")
        assert ("a_or_b" in config) == (arch in ("a", "b"))
        both, either = arch == "c" and flag == "on", arch == "c" or flag == "on"
        joint = both if conjunction == "and" else either
        assert ("joint" in config) == joint
        assert all(config[name] == pytest.approx(values[name]) for name in config)
        seen.add((arch, flag))
    assert len(seen) == 6


@peers
@pytest.mark.parametrize(
    "space_name", ["toy", "recsys", "recsys-rating", "image", "text", "fashion"]
)
def test_the_project_spaces_translate_for_syne_tune(space_name) -> None:
    _needs("syne_tune")
    from mfnas.strategies.syne_tune_space import to_configuration, translate

    space = load_space(space_name)
    domains = translate(space)
    state = np.random.RandomState(1)
    for _ in range(50):
        values = {n: d.sample(random_state=state) if hasattr(d, "sample") else d
                  for n, d in domains.items()}  # fmt: skip
        to_configuration(space, values).check_valid_configuration()


@peers
def test_numbers_outside_their_range_are_clipped_into_it() -> None:
    _needs("syne_tune")
    from mfnas.strategies.syne_tune_space import within_bounds

    space = ConfigurationSpace(
        {"w": Integer("w", (16, 64), log=True), "x": Float("x", (0.0, 1.0)), "c": ["a", "b"]}
    )
    assert within_bounds(space, {"w": 2, "x": 1.5, "c": "b"}) == {"w": 16, "x": 1.0, "c": "b"}
    assert within_bounds(space, {"w": np.float64(40.6), "x": -0.1, "c": "a"})["w"] == 41


@peers
def test_bohb_st_runs_a_whole_replay_on_the_recsys_space(tmp_path) -> None:
    """syne-tune's kernel-density searcher proposes integers below their range on the recsys
    space (mlp_width 2 of 16-64, seed 0, budget 50); clipped, the run completes."""
    _needs("syne_tune")
    out = tmp_path / "bohb"
    assert main(["--task", "recsys", "--mode", "tabular", "--strategies", "bohb-st", "--budget",
                 "50", "--seeds", "1", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    with Store(out / "trials.sqlite") as store:
        records = store.records()
    assert len(records) > 100
    # every trial ran, or answered with a crash that the table recorded (three Mult-VAEs)
    failed = [r for r in records if r.status is not Status.OK]
    assert all("recorded configuration" in (r.error or "") for r in failed)


# ---- how the adapters drive their libraries ------------------------------------------------


def _records(tmp_path, name: str, seed: int = 0, budget: int = 4, continuation: bool = True):
    toy, tag = ToyTask(), f"{name}-{seed}-{continuation}"
    with Store(tmp_path / f"{tag}.sqlite") as store:
        run_study(toy, name, seed, budget * toy.max_epochs, store, continuation=continuation,
                  checkpoints=tmp_path / tag)  # fmt: skip
        return store.records()


@peers
@pytest.mark.parametrize("name", ["asha", "bohb-st", "asha-bore"])
def test_syne_tune_trainings_run_in_chunks_to_its_rungs_and_continue(tmp_path, name) -> None:
    _needs("syne_tune")
    records = _records(tmp_path, name)
    rungs = {1, 3, 9, 27}  # grace period 1, reduction factor 3, max_t 27
    assert {r.epochs for r in records} <= rungs
    continued = [r for r in records if r.continued_from]
    assert continued and all(r.continued_from in rungs for r in continued)
    # a training continued at a rung is resumed by the very next ask, before any new one
    first = records[0]
    assert [r.epochs for r in records[:4]] == [1, 3, 9, 27]
    assert all(r.config == first.config for r in records[:4])
    off = _records(tmp_path, name, continuation=False)
    assert not any(r.continued_from for r in off)
    assert sum(r.charged_epochs for r in off) <= 4 * 27


@peers
def test_syne_tune_runs_on_their_own_rng_and_leave_the_global_ones_alone(toy_problem) -> None:
    _needs("syne_tune")
    toy = ToyTask()

    def trials(disturb: int) -> list:
        np.random.seed(disturb)
        random.seed(disturb)
        strategy = make_strategy("asha", toy_problem, seed=3)
        np_before, py_before = np.random.get_state()[1].copy(), random.getstate()
        seen = drive(strategy, toy, toy_problem.budget_epochs)
        assert (np.random.get_state()[1] == np_before).all() and random.getstate() == py_before
        return [(dict(s.config), s.epochs) for s, _ in seen.told]

    assert trials(disturb=1) == trials(disturb=2)


@peers
def test_dehb_promotes_the_same_configuration_and_the_runner_continues_it(tmp_path) -> None:
    _needs("dehb")
    records = _records(tmp_path, "dehb")
    assert {r.epochs for r in records} <= {1, 3, 9, 27}  # DEHB's fidelities, eta 3
    continued = [r for r in records if r.continued_from]
    assert continued
    by_config = {}
    for r in records:
        by_config.setdefault(str(r.config), []).append(r.epochs)
    assert any(len(epochs) > 1 for epochs in by_config.values())


@peers
def test_peers_are_registered_under_their_names(toy_problem: Problem) -> None:
    for name in ("dehb", "asha", "bohb-st", "asha-bore"):
        assert STRATEGIES.extra_of(name) == "peers"
        if installed(name):
            assert make_strategy(name, toy_problem, 0).name == name
