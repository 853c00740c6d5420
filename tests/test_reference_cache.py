"""Reference rows are computed once per data split and kept in the cache beside the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfnas.tasks.image.task import ImageTask


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, empty_reference_cache: Path) -> list[int]:
    """ImageTask's reference computation replaced by a counted stand-in; the cache in tmp."""
    calls: list[int] = []

    def rows(task: ImageTask) -> dict:
        calls.append(task.split_seed)
        return {"svm": {"val": {"accuracy": 0.5 + task.split_seed}, "note": "stand-in"}}

    monkeypatch.setattr(ImageTask, "_references", rows)
    return calls


def test_the_rows_are_computed_once_per_split_and_read_back(counted, tmp_path) -> None:
    first = ImageTask().references()
    again = ImageTask().references()  # another task object: the cache file answers
    assert first == again == {"svm": {"val": {"accuracy": 0.5}, "note": "stand-in"}}
    assert counted == [0]
    other = ImageTask(split_seed=1).references()  # another split: computed, its own file
    assert other["svm"]["val"]["accuracy"] == 1.5 and counted == [0, 1]
    assert len(list(tmp_path.glob("references-image-*.json"))) == 2


def test_an_unreadable_cache_file_is_computed_again(counted, tmp_path) -> None:
    ImageTask().references()
    (path,) = tmp_path.glob("references-image-*.json")
    path.write_text("{not json")
    assert ImageTask().references()["svm"]["note"] == "stand-in"
    assert counted == [0, 0]
    assert "stand-in" in path.read_text()  # and written back whole


def test_the_key_follows_the_split_and_the_reference_code(monkeypatch) -> None:
    task = ImageTask()
    key = task._reference_key()
    assert key == ImageTask()._reference_key() != ImageTask(split_seed=1)._reference_key()
    monkeypatch.setattr(ImageTask, "reference_modules", ("mfnas.tasks.recsys.reference",))
    assert ImageTask()._reference_key() != key  # other code computes the rows: another key


def test_without_a_folder_set_the_rows_go_where_the_data_caches_go(monkeypatch, tmp_path) -> None:
    import mfnas.tasks.base as base

    monkeypatch.setattr(base, "reference_cache_dir", None)
    monkeypatch.setenv("MFNAS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ImageTask, "_references", lambda task: {"r": {"note": "x"}})
    ImageTask().references()
    assert [p.name.split("-")[:2] for p in tmp_path.iterdir()] == [["references", "image"]]
