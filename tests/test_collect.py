"""``python -m mfnas.collect`` on the toy task: the design, resuming, extending, the card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mfnas.cli.collect import design, main
from mfnas.replay.table import META, TABLE, read_table
from mfnas.spaces import config_key, load_space


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
