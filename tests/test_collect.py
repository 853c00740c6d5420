"""``python -m mfnas.collect`` on the toy task: the design, resuming, extending, the card."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer

from mfnas.cli.collect import design, main
from mfnas.replay.table import META, TABLE, read_table
from mfnas.spaces import config_key, load_space
from mfnas.tasks.toy import ToyTask


def test_design_is_space_filling_valid_and_extensible() -> None:
    space = load_space("toy")
    small, large = design(space, 16, seed=0), design(space, 40, seed=0)
    assert [config_key(c) for c in small] == [config_key(c) for c in large[:16]]
    assert len({config_key(c) for c in large}) == 40
    for config in large:
        config.check_valid_configuration()
    assert {c["arch"] for c in small} == {"linear", "deep"}
    assert [config_key(c) for c in design(space, 16, seed=1)] != [config_key(c) for c in small]


def _collect(out: Path, *extra: str) -> int:
    return main(["--task", "toy", "--configs", "12", "--out", str(out), "--quiet", *extra])


def test_collect_records_resumes_and_extends(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    assert _collect(out) == 0
    first, epochs = read_table(out / TABLE)
    assert len(first) == 12 and epochs == 27 and all(len(r.curve) == 27 for r in first if r.ok)
    card = (out / "CARD.md").read_text()
    assert "configurations: 12\n" in card and "epochs: 27\n" in card
    assert "- Data and split: the analytic `toy` task (no data).\n" in card
    assert _collect(out) == 0  # nothing left to do: the same table
    assert read_table(out / TABLE)[0] == first
    assert main(["--task", "toy", "--configs", "20", "--out", str(out), "--quiet"]) == 0
    grown = read_table(out / TABLE)[0]
    assert grown[:12] == first and len(grown) == 20
    assert "configurations: 20\n" in (out / "CARD.md").read_text()
    assert len(json.loads((out / META).read_text())["commands"]) == 3
    meta = json.loads((out / META).read_text())
    (out / META).write_text(json.dumps({**meta, "notes": ["rows 0-4 re-recorded"]}))
    assert _collect(out) == 0  # notes survive a resume and appear in the card
    assert "## Notes\n\n- rows 0-4 re-recorded\n" in (out / "CARD.md").read_text()


def test_an_interrupted_collection_keeps_what_finished(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    assert _collect(out) == 0
    recordings, _ = read_table(out / TABLE)
    from mfnas.replay.table import write_table

    write_table(out / TABLE, recordings[:5], 27)  # as if it had stopped after five
    assert _collect(out) == 0
    again = read_table(out / TABLE)[0]  # the rest recorded again, the same values (not times)
    assert [(r.id, r.config, r.curve, r.val, r.test) for r in again] == [
        (r.id, r.config, r.curve, r.val, r.test) for r in recordings
    ]


def test_sigterm_stops_a_collection_with_what_finished_kept(tmp_path: Path, monkeypatch) -> None:
    """A collector stopped with SIGTERM (a background job ignores SIGINT) exits 130 and keeps
    every configuration recorded before the signal; a rerun completes the same table."""
    evaluate, calls = ToyTask._evaluate, []

    def signalled_at_the_fifth(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(ToyTask, "_evaluate", signalled_at_the_fifth)
    out = tmp_path / "bench"
    assert _collect(out) == 130
    assert [r.id for r in read_table(out / TABLE)[0]] == [0, 1, 2, 3]
    monkeypatch.setattr(ToyTask, "_evaluate", evaluate)
    assert _collect(out) == 0
    assert len(read_table(out / TABLE)[0]) == 12


def test_another_seed_in_the_same_folder_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    assert _collect(out) == 0
    before = (out / TABLE).read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        _collect(out, "--seed", "3")
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "seed 0" in error and "\n" not in error
    assert (out / TABLE).read_bytes() == before


def _grown_toy() -> ConfigurationSpace:
    """The toy space with a third arch, ``wide``, and a hyperparameter only it has."""
    base = load_space("toy")
    space = ConfigurationSpace(name="toy")
    for name, hp in base.items():
        space.add(Categorical("arch", ["linear", "deep", "wide"]) if name == "arch" else hp)
    space.add(Integer("span", (1, 9)))
    for condition in base.conditions:
        space.add(EqualsCondition(space[condition.child.name], space["arch"], "deep"))
    space.add(EqualsCondition(space["span"], space["arch"], "wide"))
    return space


def test_a_collection_grows_into_a_larger_space_without_losing_a_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "bench"
    assert _collect(out) == 0
    before, _ = read_table(out / TABLE)
    monkeypatch.setattr(ToyTask, "space", property(lambda self: _grown_toy()))
    with pytest.raises(SystemExit):  # another space, asked without --where: refused
        _collect(out)
    assert "extend it with --where" in capsys.readouterr().err
    grow = ["--task", "toy", "--configs", "5", "--out", str(out), "--quiet", "--where", "arch=wide"]
    assert main(grow) == 0
    grown, _ = read_table(out / TABLE)
    assert grown[:12] == before and [r.id for r in grown[12:]] == list(range(12, 17))
    assert all(r.config["arch"] == "wide" and "span" in r.config for r in grown[12:])
    meta = json.loads((out / META).read_text())
    assert [d["first_id"] for d in meta["designs"]] == [0, 12]
    card = (out / "CARD.md").read_text()
    assert "ids 0-11 (12)" in card and "ids 12-16 (5): " in card and "whose arch is wide" in card
    assert main(grow) == 0 and read_table(out / TABLE)[0] == grown  # resumed: nothing to add
    assert main([*grow[:3], "7", *grow[4:]]) == 0  # more of the grown design
    assert [r.id for r in read_table(out / TABLE)[0]][12:] == list(range(12, 19))
    # a deleted row of the first design is recorded again, over the space it was drawn from
    from mfnas.replay.table import write_table

    rows, _ = read_table(out / TABLE)
    write_table(out / TABLE, [r for r in rows if r.id != 3], 27)
    assert _collect(out) == 0
    again = {r.id: r for r in read_table(out / TABLE)[0]}
    assert again[3].config == before[3].config and again[3].curve == before[3].curve
    with pytest.raises(SystemExit):
        main(["--task", "toy", "--configs", "20", "--out", str(out), "--quiet"])
    assert "that design was closed at 12 configurations" in capsys.readouterr().err
    # a second growth starts after every id the first grown design reserved (7), not after
    # the ids recorded so far
    meta = json.loads((out / META).read_text())
    assert meta["designs"][1]["configs"] == 7


def test_growing_refuses_a_space_the_recorded_rows_do_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "bench"
    assert _collect(out) == 0
    narrow = ConfigurationSpace(name="toy")
    narrow.add(Categorical("arch", ["linear", "wide"]), Float("lr", (1e-4, 0.1), log=True))
    monkeypatch.setattr(ToyTask, "space", property(lambda self: narrow))
    with pytest.raises(SystemExit):
        main(
            [
                "--task",
                "toy",
                "--configs",
                "3",
                "--out",
                str(out),
                "--quiet",
                "--where",
                "arch=wide",
            ]
        )
    assert "cannot grow into it" in capsys.readouterr().err


def test_replicas_record_the_seed_noise_and_the_replay_answers_with_them(tmp_path: Path) -> None:
    from mfnas.replay.table import REPLICAS
    from mfnas.replay.tabular import TabularTask

    out = tmp_path / "bench"
    assert _collect(out, "--replicas", "2") == 0
    recordings, _ = read_table(out / TABLE)
    replicas, _ = read_table(out / REPLICAS)
    meta = json.loads((out / META).read_text())
    chosen = [*meta["replica_ids"]["best"], *meta["replica_ids"]["random"]]
    assert sorted(chosen) == sorted(r.id for r in recordings if r.ok)  # 12 < 30: every one
    assert sorted(r.id for r in replicas) == sorted(chosen * 2)
    first = {r.id: r for r in recordings}
    assert all(r.train_seed != first[r.id].train_seed for r in replicas)  # other seeds
    assert all(r.config == first[r.id].config for r in replicas)
    noise = meta["seed_noise"]["all"]
    assert noise["configurations"] == len(chosen) and 0 < noise["val_std"] < 0.05
    assert "## Seed noise" in (out / "CARD.md").read_text()
    assert _collect(out, "--replicas", "2") == 0  # resumed: nothing more to train
    assert read_table(out / REPLICAS)[0] == replicas

    task = TabularTask.from_folder(out)
    config = task._configuration(first[chosen[0]])
    answers = {task.evaluate(config, 27, seed).curve for seed in range(12)}
    assert len(answers) == 3  # the first training and its two replicas, picked by the seed
    assert first[chosen[0]].curve in answers
    with pytest.raises(SystemExit):
        _collect(out, "--replicas", "3")  # another count in the same folder: refused


def test_a_replay_of_a_replicated_benchmark_prints_its_seed_noise(tmp_path: Path) -> None:
    from mfnas.cli.bench import main as bench

    out = tmp_path / "bench"
    assert _collect(out, "--replicas", "1") == 0
    run = tmp_path / "run"
    argv = ["--task", "toy", "--mode", "tabular", "--replay-from", str(out), "--strategies",
            "random", "--budget", "2", "--seeds", "2", "--out", str(run), "--quiet"]  # fmt: skip
    assert bench(argv) == 0
    page = (run / "leaderboard.md").read_text()
    noise = json.loads((out / META).read_text())["seed_noise"]["all"]
    assert f"moves its test score by {noise['test_std']:.4f}" in page
