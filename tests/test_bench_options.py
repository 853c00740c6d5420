"""``python -m mfnas.bench`` interrupted and resumed, overwritten, on Dask, with its own space,
and without data."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from mfnas.cli.bench import main
from mfnas.spaces import space_path
from mfnas.store import Store

RUN = ["--task", "toy", "--strategies", "hyperband,random", "--budget", "3", "--seeds", "2"]
# the benchmark where the evaluation number argv[1] of this process writes the file argv[2] and
# then waits for a signal: the test interrupts the run at a known trial, never racing it
BLOCKING_BENCH = """
import itertools, signal, sys
from pathlib import Path
from mfnas.cli.bench import main
from mfnas.tasks.toy import ToyTask

at, marker = int(sys.argv[1]), Path(sys.argv[2])
evaluate, calls = ToyTask._evaluate, itertools.count(1)

def blocking(self, *args):
    if next(calls) == at:
        marker.touch()
        while True:
            signal.pause()
    return evaluate(self, *args)

ToyTask._evaluate = blocking
sys.exit(main(sys.argv[3:]))
"""


def count(out) -> int:
    """Trials committed so far, read without creating or changing the store."""
    path = out / "trials.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def stop_midway(out, at: int, sig: signal.Signals) -> subprocess.CompletedProcess:
    """Run (or resume) the benchmark into ``out`` and send ``sig`` while its evaluation number
    ``at`` (counted in this run) waits: after the ``at - 1`` before it were stored."""
    args = [*RUN, "--out", str(out), "--quiet"]
    if (out / "run.json").exists():
        args.append("--resume")
    before, marker = count(out), out.parent / f"blocked-{sig.name}"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    process = subprocess.Popen(
        [sys.executable, "-c", BLOCKING_BENCH, str(at), str(marker), *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if not marker.exists():
        process.kill()
        pytest.fail(f"evaluation {at} never began: {process.communicate()[1]}")
    assert count(out) == before + at - 1  # each ended trial is stored before the next begins
    process.send_signal(sig)
    stderr = process.communicate(timeout=60)[1]
    return subprocess.CompletedProcess(process.args, process.returncode, "", stderr)


def table(out) -> list[dict[str, str]]:
    rows = csv.DictReader((out / "leaderboard.csv").read_text().splitlines())
    return [{k: v for k, v in row.items() if k != "wall_seconds_mean"} for row in rows]


def trials(out) -> list[tuple]:
    with Store(out / "trials.sqlite") as store:
        return sorted((r.strategy, r.seed, r.trial_id, r.epochs, str(r.config), r.curve)
                      for r in store.records())  # fmt: skip


def test_interrupted_and_killed_runs_resume_to_the_uninterrupted_result(tmp_path) -> None:
    reference = tmp_path / "reference"
    assert main([*RUN, "--out", str(reference), "--quiet"]) == 0
    out = tmp_path / "run"
    interrupted = stop_midway(out, 21, signal.SIGINT)  # Ctrl-C
    assert interrupted.returncode == 130
    assert f"continue with: python -m mfnas.bench --resume --out {out}" in interrupted.stderr
    killed = stop_midway(out, 30, signal.SIGKILL)  # kill -9 of the resumed run
    assert killed.returncode == -signal.SIGKILL
    assert "finished" not in json.loads((out / "run.json").read_text())
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0
    assert trials(out) == trials(reference)  # none lost, none repeated, the same ones
    assert table(out) == table(reference)
    info = json.loads((out / "run.json").read_text())
    assert len(info["resumed"]) == 2 and info["started"] < info["finished"]
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0  # finished: nothing to redo
    assert trials(out) == trials(reference)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "4"], "--budget 4 differs from its 3"),
        (["--strategies", "random"], "--strategies ['random'] differs from its"),
        (["--overwrite"], "--resume and --overwrite exclude each other"),
    ],
)
def test_resume_refuses_other_run_arguments(tmp_path, capsys, args, message) -> None:
    out = tmp_path / "run"
    assert main([*RUN, "--budget", "1", "--out", str(out), "--quiet"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["--resume", "--out", str(out), "--budget", "1", *args])
    assert exit_info.value.code == 2
    assert message.replace("3", "1") in capsys.readouterr().err


def test_resume_needs_a_run(tmp_path, capsys) -> None:
    for args in (["--resume"], ["--resume", "--out", str(tmp_path)]):
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--resume needs --out" in err and "holds no run to resume" in err


def test_overwrite_replaces_the_run_and_keeps_other_files(tmp_path) -> None:
    out = tmp_path / "run"
    assert main([*RUN, "--budget", "2", "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("mine")
    assert main([*RUN, "--budget", "1", "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert json.loads((out / "run.json").read_text())["budget_epochs"] == 27
    assert {strategy for strategy, *_ in trials(out)} == {"hyperband", "random"}
    assert sum(t[3] for t in trials(out)) <= 4 * 27 and (out / "notes.txt").read_text() == "mine"


def write_space(path, edit) -> str:
    data = yaml.safe_load(space_path("toy").read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))
    return str(path)


def only_linear(data: dict) -> None:
    data["hyperparameters"] = [h for h in data["hyperparameters"] if h["name"] in ("lr", "x")]
    data["hyperparameters"].append({"name": "arch", "type": "constant", "value": "linear"})
    data["conditions"] = []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["hyperparameters"][0].update(type="weird"), "No found decoder for 'weird'"),
        (lambda d: d["hyperparameters"].pop(0), "conditions refer to a missing hyperparameter"),
        (lambda d: d.pop("hyperparameters"), "not a ConfigSpace space"),
    ],
)
def test_a_bad_space_file_is_one_line_and_exit_2(tmp_path, capsys, edit, message) -> None:
    space = write_space(tmp_path / "space.yaml", edit)
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", "--space", space, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"error: {space}: " in err and message in err
    assert not (tmp_path / "run").exists()


def test_bad_yaml_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("hyperparameters: [\n  - {name: x")
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", "--space", str(space)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"{space}: not valid YAML at line 2" in err


def test_the_given_space_is_searched(tmp_path) -> None:
    space = write_space(tmp_path / "space.yaml", only_linear)
    out = tmp_path / "run"
    assert main([*RUN, "--space", space, "--out", str(out), "--quiet"]) == 0
    configs = [json.loads(config.replace("'", '"')) for *_, config, _ in trials(out)]
    assert configs and all(set(c) == {"arch", "lr", "x"} for c in configs)
    with Store(out / "trials.sqlite") as store:
        assert [h["name"] for h in store.meta()["space"]["hyperparameters"]] == ["arch", "lr", "x"]


def test_toy_faulty_on_two_workers_records_its_crashes(tmp_path) -> None:
    out = tmp_path / "run"
    args = ["--task", "toy-faulty", "--strategies", "random", "--budget", "20", "--seeds", "1"]
    assert main([*args, "--workers", "2", "--out", str(out), "--quiet"]) == 0
    with Store(out / "trials.sqlite") as store:
        records = store.records()
    crashed = [r for r in records if r.status == "crashed"]
    assert len(records) == 20 and sum(r.epochs for r in records) == 20 * 27
    assert 1 <= len(crashed) <= 12 and all(r.error for r in crashed)
    assert json.loads((out / "run.json").read_text())["options"]["workers"] == 2


@pytest.mark.slow
def test_a_killed_run_on_two_workers_resumes_without_losing_or_repeating(tmp_path) -> None:
    args = ["--task", "toy", "--strategies", "random", "--budget", "60", "--seeds", "2"]
    reference, out = tmp_path / "reference", tmp_path / "run"
    assert main([*args, "--out", str(reference), "--quiet"]) == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "mfnas.bench", *args, "--workers", "2", "--out", str(out)],
        stderr=subprocess.DEVNULL,
    )
    while count(out) < 80 and process.poll() is None:
        time.sleep(0.01)
    process.kill()
    assert process.wait() == -signal.SIGKILL
    assert main(["--resume", "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert trials(out) == trials(reference)
    assert table(out) == table(reference)


def test_missing_data_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    args = ["--task", "recsys", "--strategies", "random", "--budget", "1", "--seeds", "1"]
    missing = tmp_path / "no-data"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                *args,
                "--max-epochs",
                "1",
                "--data-dir",
                str(missing),
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ]
        )
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"error: u.data in {missing}: no such file" in err


def test_threads_set_torch_for_this_process_and_are_recorded(tmp_path, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    asked: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", asked.append)
    out = tmp_path / "run"
    assert main([*RUN, "--threads", "3", "--out", str(out), "--quiet"]) == 0
    assert asked == [3]
    assert json.loads((out / "run.json").read_text())["options"]["threads"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threads", "0"], "argument --threads: must be a positive integer"),
        (["--threads", "2", "--workers", "2"], "--threads is for evaluations in this process"),
    ],
)
def test_bad_threads_are_one_line_and_exit_2(tmp_path, capsys, extra, message) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*RUN, *extra, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "run").exists()
