"""Leaderboard statistics on hand-made numbers and hand-made stores."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from mfnas.analysis.leaderboard import leaderboard_rows
from mfnas.analysis.stats import (
    average_ranks,
    best_so_far,
    bootstrap_ci,
    first_reaching,
    mean_ranks,
    paired_comparison,
    speedup,
)
from mfnas.store import Store, TrialRecord


def test_bootstrap_ci_brackets_the_mean_and_narrows_with_agreement() -> None:
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    low, high = bootstrap_ci(values)
    assert 0.1 <= low < 0.3 < high <= 0.5
    assert bootstrap_ci(values) == (low, high)  # seeded
    tight = bootstrap_ci([0.30, 0.31, 0.29, 0.30, 0.30])
    assert tight[1] - tight[0] < (high - low) / 5
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert all(math.isnan(v) for v in bootstrap_ci([]))


def test_ranks_with_ties_and_missing_values() -> None:
    assert average_ranks({"a": 0.9, "b": 0.5, "c": 0.7}, maximize=True) == {"a": 1, "c": 2, "b": 3}
    assert average_ranks({"a": 0.9, "b": 0.5, "c": 0.7}, maximize=False) == {"b": 1, "c": 2, "a": 3}
    tied = average_ranks({"a": 0.5, "b": 0.5, "c": 0.9, "d": math.nan}, maximize=True)
    assert tied == {"c": 1.0, "a": 2.5, "b": 2.5, "d": 4.0}
    blocks = [{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 1.0}]
    assert mean_ranks(blocks, maximize=True) == {"a": 1.5, "b": 1.5}


def test_best_so_far_is_a_step_function_of_epochs_spent() -> None:
    grid = np.array([0, 5, 10, 15, 20])
    curve = best_so_far([(10, 0.3), (5, 0.2), (15, 0.25)], grid, maximize=True)
    assert np.isnan(curve[0]) and curve[1:].tolist() == [0.2, 0.3, 0.3, 0.3]
    assert first_reaching(curve, grid, 0.3, maximize=True) == 10
    assert math.isnan(first_reaching(curve, grid, 0.4, maximize=True))


def test_speedup_reached_faster_never_and_at_once() -> None:
    grid = np.array([0.0, 10, 20, 30, 40])
    reference = np.array([np.nan, 0.1, 0.2, 0.3, 0.3])  # reaches its final 0.3 at 30 epochs
    assert speedup(reference, reference, grid, True) == 1.0
    assert speedup(reference, np.array([np.nan, 0.3, 0.3, 0.3, 0.3]), grid, True) == 3.0
    assert math.isnan(speedup(reference, np.array([np.nan, 0.1, 0.1, 0.2, 0.2]), grid, True))
    assert speedup(reference, np.array([0.3, 0.3, 0.3, 0.3, 0.3]), grid, True) == math.inf


def _record(strategy: str, seed: int, trial: int, epochs: int, val: float, test: float):
    return TrialRecord(
        strategy=strategy, seed=seed, trial_id=trial, config={"x": val}, epochs=epochs,
        curve=[val] * epochs, val={"score": val}, test={"score": test}, status="ok", error=None,
        seconds=1.0, start=float(trial), end=trial + 1.0,
    )  # fmt: skip


@pytest.fixture
def hand_made_store(tmp_path):
    """Two strategies, two seeds, max_epochs 10, budget 30 epochs each."""
    store = Store(tmp_path / "trials.sqlite")
    store.set_meta(task="toy", mode="live", metric="score", maximize=True, min_epochs=1,
                   max_epochs=10, budget_epochs=30, command="hand-made")  # fmt: skip
    for seed, (a, b) in enumerate([(0.5, 0.6), (0.4, 0.7)]):
        # random: three full trainings, its best (0.6 resp. 0.7 val) comes last
        for trial, val in enumerate([0.2, a, b]):
            store.add(_record("random", seed, trial, 10, val, val - 0.05))
        # fast: ten 1-epoch probes, then two full trainings reaching 0.8 after 20 epochs
        for trial in range(10):
            store.add(_record("fast", seed, trial, 1, 0.1, 0.0))
        store.add(_record("fast", seed, 10, 10, 0.8, [0.75, 0.5][seed]))
        store.add(_record("fast", seed, 11, 10, 0.3, 0.9))  # a better test is never read
    yield store
    store.close()


def test_leaderboard_statistics_on_a_hand_made_store(hand_made_store) -> None:
    rows = {r["strategy"]: r for r in leaderboard_rows(hand_made_store)}
    fast, rand = rows["fast"], rows["random"]
    assert fast["test_mean"] == pytest.approx(0.625)  # incumbents' tests: 0.75 and 0.5
    assert fast["val_mean"] == pytest.approx(0.8)
    assert rand["test_mean"] == pytest.approx(0.60)  # 0.55 and 0.65
    assert 0.5 <= fast["test_ci_low"] <= 0.625 <= fast["test_ci_high"] <= 0.75
    assert fast["mean_rank"] == 1.5 and rand["mean_rank"] == 1.5  # one win each
    # random's mean anytime curve reaches its final 0.65 at 30 epochs; fast reaches it at 20
    assert rand["speedup_vs_random"] == 1.0
    assert fast["speedup_vs_random"] == pytest.approx(30 / 20)
    assert fast["budget_epochs_mean"] == 30 and fast["trials_mean"] == 12
    assert [r["strategy"] for r in leaderboard_rows(hand_made_store)] == ["fast", "random"]


def test_paired_comparison_counts_wins_in_the_task_direction() -> None:
    pairs = [(0.5, 0.4), (0.3, 0.3), (0.6, 0.7), (0.9, 0.5)]
    blocks = [{"a": a, "b": b} for a, b in pairs]
    up = paired_comparison(blocks, "a", "b", maximize=True)
    assert (up["wins"], up["losses"], up["ties"]) == (2, 1, 1)
    assert up["mean_difference"] == pytest.approx(0.1)
    assert 0.0 < up["p_value"] <= 1.0
    down = paired_comparison(blocks, "a", "b", maximize=False)
    assert (down["wins"], down["losses"]) == (1, 2)
    assert down["mean_difference"] == pytest.approx(-0.1)
    assert paired_comparison(blocks[1:2], "a", "b", True)["p_value"] == 1.0
    with pytest.raises(ValueError, match="no block"):
        paired_comparison([{"a": 0.5, "b": math.nan}], "a", "b", True)


def test_paired_script_on_a_hand_made_store(hand_made_store, tmp_path, capsys) -> None:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "paired.py"
    runpy.run_path(str(script))["main"]("fast", "random", str(tmp_path))
    out = capsys.readouterr().out  # fast's incumbents test 0.75, 0.5; random's 0.55, 0.65
    assert "fast - random score +0.0250, wins 1, losses 1, ties 0" in out
