"""Tabular replay on a tiny hand-written table, and the simulated clock that runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import Configuration

from mfnas.cli.bench import main
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.executors import evaluate_trial
from mfnas.execution.runner import run_study
from mfnas.replay.modes import load_prior, recorded_benchmark
from mfnas.replay.table import META, TABLE, Recording, TableError, read_table, write_table
from mfnas.replay.tabular import RecordedCrash, TabularTask
from mfnas.spaces import load_space, space_hash
from mfnas.store import Store
from mfnas.strategies import TrialSpec

EPOCHS = 3
SPACE = load_space("toy")
CONFIGS = [
    {"arch": "linear", "lr": 0.01, "x": 0.1},
    {"arch": "linear", "lr": 0.01, "x": 0.9},
    {"arch": "deep", "depth": 2, "lr": 0.01, "width": 16, "x": 0.1},
    {"arch": "deep", "depth": 4, "lr": 0.001, "width": 64, "x": 0.5},
]


def _recordings() -> list[Recording]:
    """Configuration i: curve (i+1)/10 * (1, 2, 3) / 3, epoch i taking (i+1) seconds; 3 crashed."""
    out = []
    for i, config in enumerate(CONFIGS[:3]):
        curve = tuple(round((i + 1) / 10 * e / EPOCHS, 6) for e in range(1, EPOCHS + 1))
        metrics = {"score": curve[-1]}
        out.append(Recording(i, config, 7, curve, (i + 1.0,) * EPOCHS, metrics, metrics))
    out.append(Recording(3, CONFIGS[3], 7, error="FloatingPointError: loss nan", crash_seconds=6.0))
    return out


def write_benchmark(folder: Path, recordings: list[Recording] | None = None) -> Path:
    """A recorded benchmark of the toy task in ``folder``, as ``mfnas.cli.collect`` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder / TABLE, recordings or _recordings(), EPOCHS)
    meta = {"task": "toy", "space_hash": space_hash(SPACE), "seed": 0, "epochs": EPOCHS,
            "metric": "score", "maximize": True, "space": SPACE.to_serialized_dict()}  # fmt: skip
    (folder / META).write_text(json.dumps(meta))
    return folder


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    return write_benchmark(tmp_path / "toy-bench")


@pytest.fixture
def table(bench_dir: Path) -> TabularTask:
    return TabularTask.from_folder(bench_dir)


def _config(values: dict) -> Configuration:
    return Configuration(SPACE, values=values)


def test_table_round_trips_curves_metrics_and_crashes(tmp_path: Path) -> None:
    write_table(tmp_path / TABLE, _recordings(), EPOCHS)
    read, epochs = read_table(tmp_path / TABLE)
    assert epochs == EPOCHS and read == _recordings()
    assert read[3].seconds == 6.0 and not read[3].ok


def test_broken_or_missing_tables_raise_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / TABLE).write_bytes(b"not gzip")
    with pytest.raises(TableError, match="cannot read"):
        read_table(tmp_path / TABLE)
    with pytest.raises(TableError, match="no recorded benchmark"):
        TabularTask.from_folder(tmp_path / "nothing")


def test_recorded_config_replays_its_own_curve_prefix(table: TabularTask) -> None:
    result = table.evaluate(_config(CONFIGS[1]), 2, seed=123)
    assert result.curve == (round(0.2 / 3, 6), round(0.4 / 3, 6))
    assert result.val == {"score": result.curve[-1]} and result.test is None
    assert result.seconds == 4.0 == table.cost(_config(CONFIGS[1]), 2)
    assert result.extra == {"recorded_id": 1, "recorded_distance": 0.0}
    full = table.evaluate(_config(CONFIGS[1]), EPOCHS, seed=0)
    assert full.test == {"score": 0.2} and full.epoch_seconds == (2.0,) * EPOCHS


def test_unrecorded_config_gets_the_nearest_recording(table: TabularTask) -> None:
    near_0 = _config({"arch": "linear", "lr": 0.011, "x": 0.2})
    assert table.nearest(near_0).id == 0
    deep = _config({"arch": "deep", "depth": 2, "lr": 0.01, "width": 16, "x": 0.95})
    assert table.nearest(deep).id == 2  # the architecture outweighs x
    assert table.distance(deep) == pytest.approx(0.85)  # x only: 0.95 against 0.1 in [0, 1]
    answer = table.evaluate(deep, EPOCHS, seed=0)
    assert answer.extra == {"recorded_id": 2, "recorded_distance": pytest.approx(0.85)}


def test_recorded_crash_crashes_at_every_fidelity_and_costs_pro_rata(table) -> None:
    crashed = _config(CONFIGS[3])
    with pytest.raises(RecordedCrash, match="loss nan"):
        table.evaluate(crashed, 1, seed=0)
    result, error = evaluate_trial(table, crashed, 1, seed=0)
    assert result is None and "loss nan" in error
    assert table.cost(crashed, 1) == pytest.approx(2.0)  # 6 s recorded over 3 epochs


class FakeTimer:
    """A timer the test advances by hand: the caller's 'decision time'."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_clock_orders_completions_across_workers(table: TabularTask) -> None:
    timer = FakeTimer()
    clock = SimulatedExecutor(table, slots=2, timer=timer)
    clock.submit(TrialSpec(0, _config(CONFIGS[2]), 3), seed=0)  # 3 x 3 s: ends at 9
    clock.submit(TrialSpec(1, _config(CONFIGS[0]), 2), seed=0)  # 2 x 1 s: ends at 2
    with pytest.raises(RuntimeError, match="busy"):
        clock.submit(TrialSpec(2, _config(CONFIGS[1]), 1), seed=0)
    [first] = clock.wait()
    assert (first.spec.trial_id, first.start, first.end) == (1, 0.0, 2.0)
    clock.submit(TrialSpec(3, _config(CONFIGS[1]), 1), seed=0)  # 2 s: ends at 4
    assert [o.spec.trial_id for o in clock.wait()] == [3]
    [last] = clock.wait()
    assert (last.spec.trial_id, last.end, clock.now()) == (0, 9.0, 9.0)


def test_clock_charges_the_callers_decision_time(table: TabularTask) -> None:
    timer = FakeTimer()
    clock = SimulatedExecutor(table, slots=1, timer=timer)
    clock.submit(TrialSpec(0, _config(CONFIGS[0]), 1), seed=0)  # 1 s
    timer.now += 0.5  # the caller thinks before waiting: the evaluation runs meanwhile
    [outcome] = clock.wait()
    assert outcome.end == 1.0 and clock.decision_seconds == 0.5
    timer.now += 2.0  # the strategy decides for 2 s before the next trial can start
    clock.submit(TrialSpec(1, _config(CONFIGS[0]), 1), seed=0)
    [outcome] = clock.wait()
    assert (outcome.start, outcome.end) == (3.0, 4.0)
    assert clock.decision_seconds == 2.5


def test_decisions_longer_than_trials_end_several_at_once(table: TabularTask) -> None:
    timer = FakeTimer()
    clock = SimulatedExecutor(table, slots=2, timer=timer)
    clock.submit(TrialSpec(0, _config(CONFIGS[0]), 1), seed=0)
    clock.submit(TrialSpec(1, _config(CONFIGS[1]), 1), seed=0)
    timer.now += 10.0
    assert [o.spec.trial_id for o in clock.wait()] == [0, 1]


def test_crash_is_charged_on_the_clock(table: TabularTask) -> None:
    clock = SimulatedExecutor(table, slots=1, timer=FakeTimer())
    clock.submit(TrialSpec(0, _config(CONFIGS[3]), 3), seed=0)
    [outcome] = clock.wait()
    assert outcome.result is None and outcome.end == pytest.approx(6.0)


@pytest.mark.parametrize("slots", [1, 3])
def test_tabular_study_is_deterministic_and_on_the_simulated_clock(table, tmp_path, slots):
    runs = []
    for name in ("a", "b"):
        with Store(tmp_path / f"{name}.sqlite") as store:
            executor = SimulatedExecutor(table, slots=slots, timer=FakeTimer())
            run_study(table, "hyperband", 0, 6 * EPOCHS, store, executor=executor)
            runs.append([(r.trial_id, r.config, r.epochs, r.curve, r.start, r.end, r.status)
                         for r in store.records()])  # fmt: skip
    assert runs[0] == runs[1]
    assert max(end for *_, end, _ in runs[0]) > 5.0  # recorded seconds, not real ones


def test_replay_folder_and_prior(bench_dir: Path) -> None:
    assert recorded_benchmark("toy", bench_dir) == bench_dir
    with pytest.raises(TableError, match=r"mfnas\.collect"):
        recorded_benchmark("no-such-task")
    assert [p.config for p in load_prior(bench_dir)] == CONFIGS[:3]  # crashed one left out
    assert [p.config for p in load_prior(bench_dir, slice(1, None, 2))] == [CONFIGS[1]]
    odd_half = TabularTask.from_folder(bench_dir, ids=slice(0, None, 2))
    assert [r.id for r in odd_half.recordings] == [0, 2]


def _leaderboard(out: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader((out / "leaderboard.csv").read_text().splitlines()))
    return [{k: v for k, v in r.items() if k != "wall_seconds_mean"} for r in rows]


def test_cli_tabular_run_is_reproducible_and_says_its_mode(tmp_path, bench_dir) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        argv = ["--task", "toy", "--mode", "tabular", "--replay-from", str(bench_dir),
                "--strategies", "random,hyperband", "--seeds", "3", "--budget", "4",
                "--workers", "2", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
    assert _leaderboard(outs[0]) == _leaderboard(outs[1])
    info = json.loads((outs[0] / "run.json").read_text())
    assert info["spec"]["mode"] == "tabular" and info["replay"]["source"] == str(bench_dir)
    assert "# Leaderboard: toy (tabular)" in (outs[0] / "leaderboard.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mode", "tabular", "--replay-from", "/nonexistent"], "no tabular benchmark"),
        (["--replay-from", "x"], "--replay-from needs --mode"),
        (["--mode", "tabular", "--space", "spaces/toy.yaml"], "--space is for live runs"),
        (["--mode", "tabular", "--max-epochs", "9"], "keeps the recorded fidelity"),
        (["--mode", "tabular", "--trial-timeout", "5"], "not replays"),
    ],
)
def test_cli_replay_errors_are_one_line(tmp_path, bench_dir, capsys, argv, message) -> None:
    if "--replay-from" not in argv:
        argv = [*argv, "--replay-from", str(bench_dir)] if "--mode" in argv else argv
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", *argv, "--out", str(out), "--quiet"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not (out / "trials.sqlite").exists()


def test_recorded_vectors_use_nan_for_inactive(table: TabularTask) -> None:
    assert np.isnan(table._vectors[0]).sum() == 2  # depth and width are inactive for linear


def test_cli_warm_strategy_gets_the_odd_half_and_is_marked(tmp_path, bench_dir) -> None:
    out = tmp_path / "warm"
    argv = ["--task", "toy", "--mode", "tabular", "--replay-from", str(bench_dir),
            "--strategies", "random,surrogate-hb-warm", "--seeds", "2", "--budget", "3",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    replay = json.loads((out / "run.json").read_text())["replay"]
    assert replay["answers"].startswith("2 recorded configurations, the even-id half")
    assert replay["prior"].startswith("1 recorded curves")
    with Store(out / "trials.sqlite") as store:
        assert {r.extra["recorded_id"] for r in store.records() if r.status == "ok"} <= {0, 2}
        diagnostics = store.diagnostics()
    assert diagnostics[("surrogate-hb-warm", 0)]["prior_curves"] == 1
    assert "prior_curves" not in diagnostics[("random", 0)]
    rows = {r["strategy"]: r for r in _leaderboard(out)}
    assert (rows["surrogate-hb-warm"]["prior_data"], rows["random"]["prior_data"]) == ("yes", "")
    candidates = diagnostics[("surrogate-hb-warm", 0)]["predictor"]["candidates"]
    assert all("truth" in c for c in candidates)
    assert "Prior data: 1 recorded curves" in (out / "leaderboard.md").read_text()


def test_report_rebuilds_a_tabular_run_from_its_store(tmp_path, bench_dir) -> None:
    from mfnas.cli.report import main as report_main

    out = tmp_path / "run"
    argv = ["--task", "toy", "--mode", "tabular", "--replay-from", str(bench_dir),
            "--strategies", "random", "--seeds", "2", "--budget", "2", "--out", str(out),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    before = (out / "leaderboard.md").read_text()
    (out / "leaderboard.md").unlink()
    assert report_main([str(out)]) == 0
    assert (out / "leaderboard.md").read_text() == before
    assert "Mode: tabular replay" in before


def test_a_replay_runs_from_any_folder_with_what_mfnas_ships(tmp_path) -> None:
    """The recorded tables ship with the package (the wheel's ``mfnas/recorded/``, or the
    checkout in a development install), so a replay needs no checkout as working folder."""
    import mfnas

    done = subprocess.run(
        [sys.executable, "-m", "mfnas.bench", "--task", "image", "--mode", "tabular",
         "--strategies", "random", "--seeds", "1", "--budget", "1", "--out", "run", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = Path(json.loads((tmp_path / "run" / "run.json").read_text())["replay"]["source"])
    assert (source / "curves.csv.gz").is_file() and not source.is_relative_to(tmp_path)
    package = Path(mfnas.__file__).resolve().parent
    installed = not (package.parent / "pyproject.toml").exists()  # a wheel, not a checkout
    assert source.is_relative_to(package / "recorded") == installed
