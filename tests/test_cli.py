"""``python -m mfnas.bench`` as a user runs it: outputs, and one-line errors with exit status 2."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys

import pytest
import torch

from mfnas.analysis.leaderboard import COLUMNS
from mfnas.cli.bench import DEFAULT_STRATEGIES, main
from mfnas.strategies import STRATEGIES


def test_toy_run_writes_every_output(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert (
        main(["--task", "toy", "--budget", "3", "--seeds", "2", "--out", str(out), "--quiet"]) == 0
    )
    assert {p.name for p in out.iterdir()} >= {
        "leaderboard.md", "leaderboard.csv", "trials.sqlite", "run.json"
    }  # fmt: skip
    rows = list(csv.DictReader((out / "leaderboard.csv").read_text().splitlines()))
    assert tuple(rows[0]) == COLUMNS
    assert {r["strategy"] for r in rows} == set(DEFAULT_STRATEGIES)
    assert all(r["n_seeds"] == "2" and float(r["epochs_spent_mean"]) <= 81 for r in rows)
    tests = [float(r["test_mean"]) for r in rows]
    assert tests == sorted(tests, reverse=True)  # best first
    info = json.loads((out / "run.json").read_text())
    assert info["spec"]["seeds"] == 2 and info["spec"]["mode"] == "live"
    assert info["budget_epochs"] == 81
    assert {"mfnas", "torch", "smac", "ConfigSpace", "xgboost"} <= set(info["versions"])
    assert info["started"] <= info["finished"]
    markdown = (out / "leaderboard.md").read_text()
    assert "python -m mfnas.bench --task toy --budget 3" in markdown
    assert "leaderboard.md" in capsys.readouterr().out


@pytest.mark.parametrize(
    "strategies",
    ["random,smac-hb,optuna-hb,surrogate-hb", pytest.param("all", marks=pytest.mark.slow)],
)
def test_same_seeds_give_the_same_leaderboard(strategies: str, tmp_path) -> None:
    tables = []
    for name in ("a", "b"):
        out = tmp_path / name
        main(["--task", "toy", "--strategies", strategies, "--budget", "3", "--seeds", "2",
              "--out", str(out), "--quiet"])  # fmt: skip
        rows = list(csv.DictReader((out / "leaderboard.csv").read_text().splitlines()))
        names = STRATEGIES.installed_names() if strategies == "all" else strategies.split(",")
        needs_prior = {name for name in names if STRATEGIES[name].uses_prior}
        assert {r["strategy"] for r in rows} == set(names) - needs_prior  # no toy curves
        tables.append([{k: v for k, v in r.items() if k != "wall_seconds_mean"} for r in rows])
    assert tables[0] == tables[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "nope"], "unknown task 'nope'"),
        (["--task", "toy", "--strategies", "random,nope"], "unknown strategy nope"),
        (["--task", "toy", "--budget", "0"], "must be a positive integer, got 0"),
        (["--task", "toy", "--seeds", "-1"], "must be a positive integer, got -1"),
        (["--task", "toy", "--seeds", "two"], "'two' is not an integer"),
        (["--task", "toy", "--device", "tpu"], "invalid choice: 'tpu'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_used_output_folder_is_refused_and_left_untouched(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    main(["--task", "toy", "--budget", "1", "--seeds", "1", "--out", str(out), "--quiet"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", "--budget", "2", "--seeds", "1", "--out", str(out), "--quiet"])
    assert exit_info.value.code == 2
    assert "already holds a run" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_help_teaches(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for word in ("--task", "--strategies", "--budget", "--seeds", "--out", "--device", "examples"):
        assert word in help_text


@pytest.mark.slow
def test_module_entry_point_runs_alike_whatever_the_hash_seed(tmp_path) -> None:
    trials = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    for name in ("a", "b"):  # two processes: SMAC's proposals must not depend on the hash seed
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "mfnas.bench", "--task", "toy", "--budget", "2", "--seeds",
             "1", "--strategies", "random,smac-hb", "--out", str(out)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "epoch" in done.stderr  # the progress bar
        with sqlite3.connect(out / "trials.sqlite") as db:
            trials.append(
                db.execute("SELECT strategy, config, epochs, curve FROM trials").fetchall()
            )
    assert trials[0] == trials[1] and len(trials[0]) > 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
@pytest.mark.parametrize("task", ["toy", "recsys"])
def test_a_cuda_device_that_is_not_there_is_refused_before_any_work(task, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", task, "--device", "cuda", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "no CUDA device" in err
    assert not out.exists()


def test_a_resume_may_repeat_the_runs_own_values_and_defaults(tmp_path) -> None:
    out = tmp_path / "run"
    assert (
        main(["--task", "toy", "--budget", "1", "--seeds", "1", "--out", str(out), "--quiet"]) == 0
    )
    again = ["--resume", "--out", str(out), "--quiet", "--task", "toy", "--max-epochs", "27"]
    assert main([*again, "--strategies", ",".join(DEFAULT_STRATEGIES), "--budget", "1"]) == 0


def test_overwriting_a_suite_with_one_run_removes_the_suite(tmp_path) -> None:
    out = tmp_path / "out"
    assert (
        main(["--task", "toy", "--budget", "1,2", "--seeds", "1", "--out", str(out), "--quiet"])
        == 0
    )
    assert (out / "suite.json").exists()
    argv = ["--task", "toy", "--budget", "1", "--seeds", "1", "--out", str(out), "--quiet"]
    assert main([*argv, "--overwrite"]) == 0
    assert not (out / "suite.json").exists()
    assert json.loads((out / "run.json").read_text())["spec"]["budget"] == 1


def test_a_failed_write_is_one_line_with_the_resume_command(tmp_path, capsys, monkeypatch):
    import errno

    from mfnas.execution import benchmark

    out, writes = tmp_path / "run", []
    write = benchmark._write_run_info

    def full_disk_at_the_end(folder, info) -> None:
        writes.append(info)
        if "finished" in info:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(folder, info)

    monkeypatch.setattr(benchmark, "_write_run_info", full_disk_at_the_end)
    argv = ["--task", "toy", "--budget", "1", "--seeds", "1", "--out", str(out), "--quiet"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert "No space left on device; free space" in err and f"--resume --out {out}" in err
    assert "finished" not in json.loads((out / "run.json").read_text())
    monkeypatch.setattr(benchmark, "_write_run_info", write)
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0
    assert "finished" in json.loads((out / "run.json").read_text())
