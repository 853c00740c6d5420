"""Several tasks in one run: ranks across (task, seed) blocks, each in its task's direction."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from mfnas.analysis.leaderboard import predictor_quality, regret
from mfnas.analysis.suite import suite_rows
from mfnas.cli.bench import main
from mfnas.direction import Direction
from mfnas.store import Store, TrialRecord


def _full(strategy: str, seed: int, test: float, metric: str) -> TrialRecord:
    return TrialRecord(
        strategy=strategy, seed=seed, trial_id=0, config={}, epochs=3, curve=[test] * 3,
        val={metric: test}, test={metric: test}, status="ok", error=None, seconds=1.0,
        start=0.0, end=1.0,
    )  # fmt: skip


def _task(
    folder, metric: str, maximize: bool, tests: dict[str, list[float]], mode: str = "live"
) -> None:
    folder.mkdir(parents=True)
    with Store(folder / "trials.sqlite") as store:
        store.set_meta(
            task=folder.name.split("-")[0], mode=mode, metric=metric, maximize=maximize,
            min_epochs=1, max_epochs=3, budget_epochs=3, command="hand-made",
        )  # fmt: skip
        for strategy, scores in tests.items():
            for seed, score in enumerate(scores):
                store.add(_full(strategy, seed, score, metric))


def test_ranks_across_tasks_follow_each_tasks_direction(tmp_path) -> None:
    # maximised: a beats b on both seeds; minimised (rmse): a has the lower error on seed 0
    # only, and b wins seed 1; so a ranks 1, 1, 1, 2 over the four blocks: mean 1.25
    _task(tmp_path / "up", "score", True, {"a": [0.9, 0.8], "b": [0.5, 0.4]})
    _task(tmp_path / "down", "rmse", False, {"a": [0.90, 1.10], "b": [0.95, 1.00]})
    suite = suite_rows(tmp_path, ["up", "down"])
    by_name = {r["strategy"]: r for r in suite.rows}
    assert suite.columns == [
        "up:score", "up:speedup_vs_random", "down:rmse", "down:speedup_vs_random"
    ]  # fmt: skip
    assert by_name["a"]["mean_rank"] == 1.25 and by_name["b"]["mean_rank"] == 1.75
    assert by_name["a"]["blocks"] == 4 and by_name["b"]["down:rmse"] == pytest.approx(0.975)
    assert [r["strategy"] for r in suite.rows] == ["a", "b"]
    assert suite.friedman is None  # two strategies


def test_suite_friedman_test_over_run_and_seed_blocks(tmp_path) -> None:
    # c is missing from "down": it ranks last in both of its blocks
    _task(tmp_path / "up", "score", True, {"a": [0.9, 0.8], "b": [0.5, 0.4], "c": [0.7, 0.6]})
    _task(tmp_path / "down", "rmse", False, {"a": [0.90, 1.10], "b": [0.95, 1.00]})
    suite = suite_rows(tmp_path, ["up", "down"])
    assert {r["strategy"]: r["mean_rank"] for r in suite.rows} == {"a": 1.25, "b": 2.25, "c": 2.5}
    assert (suite.friedman.n_blocks, suite.friedman.n_strategies) == (4, 3)


def test_cli_suite_runs_every_task_and_resumes(tmp_path) -> None:
    out = tmp_path / "suite"
    argv = ["--task", "toy,toy-faulty", "--strategies", "random,hyperband", "--seeds", "2",
            "--budget", "2", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    for task in ("toy", "toy-faulty"):
        assert (out / task / "leaderboard.md").exists()
    rows = list(csv.DictReader((out / "leaderboard.csv").read_text().splitlines()))
    assert {r["strategy"] for r in rows} == {"random", "hyperband"}
    assert all(r["blocks"] == "4" for r in rows)
    before = (out / "leaderboard.csv").read_text()
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0
    assert (out / "leaderboard.csv").read_text() == before


def test_cli_budgets_side_by_side(tmp_path) -> None:
    out = tmp_path / "budgets"
    argv = ["--task", "toy", "--strategies", "random,one-epoch", "--seeds", "2",
            "--budget", "2,4", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    rows = list(csv.DictReader((out / "leaderboard.csv").read_text().splitlines()))
    assert {"toy-budget2:score", "toy-budget4:speedup_vs_random"} <= set(rows[0])
    info = json.loads((out / "toy-budget4" / "run.json").read_text())
    assert info["budget_epochs"] == 4 * 27


def test_cli_suite_with_an_unknown_task_is_one_line(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy,nope", "--out", str(tmp_path / "s"), "--quiet"])
    assert exit_info.value.code == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_regret_is_normalised_and_only_where_the_best_is_known() -> None:
    replay = {"test_best": 0.3, "test_worst": 0.1}
    assert regret(0.3, replay) == 0.0 and regret(0.1, replay) == 1.0
    assert regret(0.25, replay) == pytest.approx(0.25)
    assert regret(0.9, {"test_best": 0.8, "test_worst": 1.2}) == pytest.approx(0.25)  # rmse
    assert math.isnan(regret(0.2, None)) and math.isnan(regret(0.2, {"source": "x"}))


def test_predictor_quality_from_diagnostics() -> None:
    def candidate(name: str, truth: float) -> dict:
        return {"config": {"x": name}, "truth": truth}

    infos = [
        {"predictor": {"spearman": 0.5, "picks": [{"config": {"x": "a"}}, {"config": {"x": "c"}}],
                       "candidates": [candidate("a", 0.9), candidate("b", 0.8),
                                      candidate("c", 0.1)]}},  # true top-2 {a, b}: 1 of 2
        {"predictor": {"spearman": 1.0, "picks": [{"config": {"x": "b"}}],
                       "candidates": [candidate("a", 0.2), candidate("b", 0.7)]}},  # 1 of 1
        {},  # a strategy without a predictor
    ]  # fmt: skip
    spearman, hit = predictor_quality(infos)
    assert spearman == pytest.approx(0.75) and hit == pytest.approx(0.75)
    assert all(math.isnan(v) for v in predictor_quality([{}]))
    assert predictor_quality(infos[:1], Direction.MINIMIZE)[1] == 0.5  # true best: c and b


def test_a_refused_suite_leaves_the_suite_there_as_it_was(tmp_path, capsys) -> None:
    out = tmp_path / "suite"
    argv = ["--task", "toy", "--strategies", "random", "--seeds", "1", "--quiet"]
    assert main([*argv, "--budget", "1,2", "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--strategies", "random,evolution", "--budget", "1,2", "--out", str(out)])
    assert exit_info.value.code == 2 and "already holds a run" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
    again = ["--resume", "--out", str(out), "--quiet", "--max-epochs", "27"]  # its own fidelity
    assert main(again) == 0
    info = json.loads((out / "toy-budget2" / "run.json").read_text())
    assert info["spec"]["strategies"] == ["random"] and info["spec"]["max_epochs"] == 27


def test_modes_of_one_task_and_budget_are_compared_by_kendalls_tau(tmp_path) -> None:
    # tabular orders a > b > c > d on both seeds; surrogate swaps c and d (one discordant pair
    # of six: tau 4/6) and has a strategy of its own, e, which the comparison leaves out
    _task(
        tmp_path / "t-tabular",
        "score",
        True,
        {"a": [0.9, 0.8], "b": [0.7, 0.7], "c": [0.5, 0.6], "d": [0.4, 0.3]},
        "tabular",
    )
    _task(
        tmp_path / "t-surrogate",
        "score",
        True,
        {"a": [0.8, 0.9], "b": [0.6, 0.7], "c": [0.2, 0.3], "d": [0.4, 0.5], "e": [1.0, 1.0]},
        "surrogate",
    )
    _task(tmp_path / "u", "score", True, {"a": [0.1, 0.2], "b": [0.3, 0.4]}, "surrogate")
    suite = suite_rows(tmp_path, ["t-tabular", "t-surrogate", "u"])
    assert len(suite.agreements) == 1  # u is another task
    agreement = suite.agreements[0]
    assert agreement.modes == ("tabular", "surrogate") and agreement.strategies == 4
    assert agreement.tau_rank == pytest.approx(4 / 6) and agreement.tau_test == pytest.approx(4 / 6)
    assert agreement.seeds == (2, 2) and agreement.budget == "1"
    # each run orders its strategies alike on both seeds: its halves agree fully, and a seed
    # of one run against a seed of the other agrees as the runs do
    assert agreement.halves == pytest.approx((1.0, 1.0, 4 / 6))


def test_cli_modes_side_by_side_say_how_alike_they_rank(
    tmp_path, monkeypatch, toy_table, toy_surrogate
) -> None:
    from mfnas.replay.modes import SurrogateMode, TabularMode

    toy_surrogate.surrogate.save(tmp_path / "surrogate")
    monkeypatch.setattr(TabularMode, "folder", lambda self, task, given: Path(toy_table.source))
    monkeypatch.setattr(SurrogateMode, "folder", lambda self, task, given: tmp_path / "surrogate")
    out = tmp_path / "modes"
    argv = ["--task", "toy", "--mode", "tabular,surrogate", "--strategies",
            "random,one-epoch,hyperband", "--seeds", "3", "--budget", "3", "--out", str(out),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((out / "suite.json").read_text())["runs"] == ["toy-tabular", "toy-surrogate"]
    assert (
        json.loads((out / "toy-surrogate" / "run.json").read_text())["spec"]["mode"] == "surrogate"
    )
    rows = list(csv.DictReader((out / "agreement.csv").read_text().splitlines()))
    assert [(r["task"], r["mode_a"], r["mode_b"], r["strategies"]) for r in rows] == [
        ("toy", "tabular", "surrogate", "3")
    ]
    assert -1.0 <= float(rows[0]["kendall_tau_mean_rank"]) <= 1.0
    assert {"split_half_tau_a", "split_half_tau_b", "split_half_tau_across"} <= set(rows[0])
    assert "## Do the modes agree?" in (out / "leaderboard.md").read_text()
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0


def test_a_mode_given_twice_or_unknown_is_one_line(tmp_path, capsys) -> None:
    for extra, said in (
        (["--mode", "tabular,tabular"], "a mode given twice"),
        (["--mode", "tabular,nope"], "'nope'"),
        (["--mode", "tabular,surrogate", "--replay-from", str(tmp_path)], "one --mode only"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(["--task", "toy", *extra, "--out", str(tmp_path / "m"), "--quiet"])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert said in error[-1]
    assert not (tmp_path / "m").exists()
