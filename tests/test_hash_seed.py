"""``PYTHONHASHSEED`` is pinned before a run: a resume takes the one its run recorded."""

from __future__ import annotations

import json
import os

import pytest

from mfnas.cli.hash_seed import pin_hash_seed


@pytest.fixture
def execs(monkeypatch) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(os, "execv", lambda path, args: seen.append((path, args)))
    return seen


@pytest.mark.parametrize(
    ("environment", "argv", "recorded", "wanted"),
    [
        (None, ["--task", "toy"], None, "0"),  # a new run without one: 0
        ("5", ["--task", "toy"], None, None),  # a new run keeps the environment's
        ("5", ["--resume", "--out", "{out}"], "7", "7"),  # a resume takes its run's
        (None, ["--resume", "--out", "{out}"], "7", "7"),
        ("7", ["--resume", "--out", "{out}"], "7", None),  # already right: no re-execution
        ("5", ["--resume", "--out", "{out}"], None, None),  # an old run that did not say
    ],
)
def test_the_wanted_hash_seed_is_set_by_one_re_execution(
    environment, argv, recorded, wanted, execs, monkeypatch, tmp_path
) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"pythonhashseed": recorded}))
    if environment is None:
        monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    else:
        monkeypatch.setenv("PYTHONHASHSEED", environment)
    filled = [a.replace("{out}", str(tmp_path)) for a in argv]
    pin_hash_seed("mfnas.bench", filled)
    if wanted is None:
        assert execs == []
    else:
        assert os.environ["PYTHONHASHSEED"] == wanted
        assert execs and execs[0][1][1:] == ["-m", "mfnas.bench", *filled]


def test_a_suite_resume_takes_its_first_runs_hash_seed(execs, monkeypatch, tmp_path) -> None:
    (tmp_path / "suite.json").write_text(json.dumps({"runs": ["toy", "image"]}))
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "run.json").write_text(json.dumps({"pythonhashseed": "11"}))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    pin_hash_seed("mfnas.bench", ["--resume", "--out", str(tmp_path)])
    assert os.environ["PYTHONHASHSEED"] == "11" and len(execs) == 1
