"""Leaderboard statistics on hand-made numbers and hand-made stores."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from mfnas.analysis.leaderboard import COLUMNS, leaderboard_rows
from mfnas.analysis.stats import (
    BOOTSTRAP_RESAMPLES,
    best_so_far,
    bootstrap_band,
    bootstrap_ci,
    critical_difference,
    first_reaching,
    friedman,
    paired_comparison,
    rank_blocks,
    speedup,
)
from mfnas.analysis.view import RunView
from mfnas.direction import Direction
from mfnas.store import Store, TrialRecord

UP, DOWN = Direction.MAXIMIZE, Direction.MINIMIZE


def test_bootstrap_ci_brackets_the_mean_and_narrows_with_agreement() -> None:
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    low, high = bootstrap_ci(values)
    assert 0.1 <= low < 0.3 < high <= 0.5
    assert bootstrap_ci(values) == (low, high)  # seeded
    tight = bootstrap_ci([0.30, 0.31, 0.29, 0.30, 0.30])
    assert tight[1] - tight[0] < (high - low) / 5
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert all(math.isnan(v) for v in bootstrap_ci([]))


def test_scipy_bootstrap_resamples_like_the_hand_written_one() -> None:
    # the resampling it replaced: one batch of rng.integers(0, n, (resamples, n)) from
    # default_rng(seed); scipy interpolates its percentiles differently in the last bit only
    values = np.array([0.31, 0.27, 0.35, 0.22, 0.30, 0.29])
    draws = np.random.default_rng(0).integers(0, values.size, (BOOTSTRAP_RESAMPLES, values.size))
    by_hand = np.quantile(values[draws].mean(axis=1), [0.025, 0.975])
    assert bootstrap_ci(values) == pytest.approx(tuple(by_hand), abs=1e-15)
    curves = np.array([[0.1, 0.2], [0.3, 0.2], [0.2, 0.5]])
    low, high = bootstrap_band(curves)
    assert (low <= curves.mean(axis=0)).all() and (curves.mean(axis=0) <= high).all()
    assert bootstrap_band(curves[:1])[0].tolist() == [0.1, 0.2]


def test_ranks_with_ties_and_missing_values() -> None:
    names = ["a", "b", "c"]
    assert rank_blocks([{"a": 0.9, "b": 0.5, "c": 0.7}], names, UP).tolist() == [[1, 3, 2]]
    assert rank_blocks([{"a": 0.9, "b": 0.5, "c": 0.7}], names, DOWN).tolist() == [[3, 1, 2]]
    tied = rank_blocks([{"a": 0.5, "b": 0.5, "c": 0.9, "d": math.nan}], ["a", "b", "c", "d"], UP)
    assert tied.tolist() == [[2.5, 2.5, 1.0, 4.0]]
    assert rank_blocks([{"a": 0.5}], names, UP).tolist() == [[1.0, 2.5, 2.5]]  # absent: last
    blocks = [{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 1.0}]
    assert rank_blocks(blocks, ["a", "b"], UP).mean(axis=0).tolist() == [1.5, 1.5]
    assert rank_blocks([], names, UP).shape == (0, 3)


def test_friedman_test_on_hand_computed_ranks() -> None:
    # mean ranks 1.2, 2.0, 2.8 over n = 5 blocks, k = 3: chi2 = 12n/(k(k+1)) * (sum R^2 - 12)
    # = 5 * 1.28 = 6.4, and with 2 degrees of freedom p = exp(-6.4 / 2)
    ranks = np.array([[1, 2, 3], [1, 3, 2], [1, 2, 3], [2, 1, 3], [1, 2, 3]], dtype=float)
    test = friedman(ranks)
    assert test.statistic == pytest.approx(6.4) and test.p_value == pytest.approx(math.exp(-3.2))
    assert (test.n_blocks, test.n_strategies, test.alpha) == (5, 3, 0.05)
    assert test.critical_difference == critical_difference(3, 5)
    assert friedman(ranks[:, :2]) is None and friedman(ranks[:1]) is None
    tied = friedman(np.full((4, 3), 2.0))
    assert math.isnan(tied.statistic) and math.isnan(tied.p_value)


def test_critical_difference_for_any_number_of_strategies() -> None:
    # Demšar (2006): k = 4 classifiers, N = 14 data sets -> CD = 2.569 * sqrt(20 / 84) = 1.25
    assert critical_difference(4, 14) == pytest.approx(1.2536, abs=1e-3)
    # beyond Demšar's table (k <= 10): q_0.05(13, inf) / sqrt(2) = 4.685 / 1.4142 = 3.313
    assert critical_difference(13, 5) == pytest.approx(3.313 * math.sqrt(13 * 14 / 30), abs=1e-2)
    assert math.isnan(critical_difference(1, 5)) and math.isnan(critical_difference(3, 0))


def test_best_so_far_is_a_step_function_of_epochs_spent() -> None:
    grid = np.array([0, 5, 10, 15, 20])
    curve = best_so_far([(10, 0.3), (5, 0.2), (15, 0.25)], grid, UP)
    assert np.isnan(curve[0]) and curve[1:].tolist() == [0.2, 0.3, 0.3, 0.3]
    assert first_reaching(curve, grid, 0.3, UP) == 10
    assert math.isnan(first_reaching(curve, grid, 0.4, UP))
    down = best_so_far([(10, 0.3), (5, 0.2), (15, 0.25)], grid, DOWN)
    assert down[1:].tolist() == [0.2] * 4 and first_reaching(down, grid, 0.2, DOWN) == 5


def test_speedup_reached_faster_never_and_at_once() -> None:
    grid = np.array([0.0, 10, 20, 30, 40])
    reference = np.array([np.nan, 0.1, 0.2, 0.3, 0.3])  # reaches its final 0.3 at 30 epochs
    assert speedup(reference, reference, grid, UP) == 1.0
    assert speedup(reference, np.array([np.nan, 0.3, 0.3, 0.3, 0.3]), grid, UP) == 3.0
    assert math.isnan(speedup(reference, np.array([np.nan, 0.1, 0.1, 0.2, 0.2]), grid, UP))
    assert speedup(reference, np.array([0.3, 0.3, 0.3, 0.3, 0.3]), grid, UP) == math.inf


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
    view = RunView.load(hand_made_store)
    rows = {r["strategy"]: r for r in leaderboard_rows(view)}
    fast, rand = rows["fast"], rows["random"]
    assert fast["test_mean"] == pytest.approx(0.625)  # incumbents' tests: 0.75 and 0.5
    assert fast["val_mean"] == pytest.approx(0.8)
    assert rand["test_mean"] == pytest.approx(0.60)  # 0.55 and 0.65
    assert 0.5 <= fast["test_ci_low"] <= 0.625 <= fast["test_ci_high"] <= 0.75
    assert fast["mean_rank"] == 1.5 and rand["mean_rank"] == 1.5  # one win each
    # random's mean anytime curve reaches its final 0.65 at 30 epochs; fast reaches it at 20
    assert rand["speedup_vs_random"] == 1.0
    assert fast["speedup_vs_random"] == pytest.approx(30 / 20)
    assert [r["strategy"] for r in leaderboard_rows(view)] == ["fast", "random"]


def test_epochs_spent_is_named_for_what_it_holds(hand_made_store) -> None:
    # fast spends 10 one-epoch probes and two full trainings: 30 epochs of its 30 budget;
    # random 3 x 10; the column holds what was spent, not the budget
    rows = {r["strategy"]: r for r in leaderboard_rows(RunView.load(hand_made_store))}
    assert "budget_epochs_mean" not in COLUMNS
    assert rows["fast"]["epochs_spent_mean"] == 30 and rows["fast"]["trials_mean"] == 12


def test_the_view_holds_blocks_ranks_and_curves_read_only(hand_made_store) -> None:
    view = RunView.load(hand_made_store)
    assert view.strategies == ("random", "fast") and view.direction is UP
    expected = [{"random": 0.55, "fast": 0.75}, {"random": 0.65, "fast": 0.5}]
    assert [dict(b) for b in view.blocks] == [pytest.approx(b) for b in expected]
    assert view.ranks.tolist() == [[2.0, 1.0], [1.0, 2.0]]
    assert view.curves["fast"].shape == (2, len(view.grid))
    with pytest.raises(TypeError):
        view.meta["metric"] = "other"  # type: ignore[index]
    with pytest.raises(ValueError):
        view.ranks[0, 0] = 5.0


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
