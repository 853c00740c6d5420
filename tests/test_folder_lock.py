"""The output folder's lock: a second run or a resume of a folder in use is refused with one
line naming the holder, and leaves the folder as it was; the lock ends with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mfnas.cli.bench import main
from mfnas.execution.folder_lock import FolderInUse, folder_lock

RUN = ["--task", "toy", "--strategies", "random", "--budget", "1", "--seeds", "1", "--quiet"]


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_second_lock_is_refused_at_once_and_names_the_holder(tmp_path) -> None:
    with (
        folder_lock(tmp_path),
        pytest.raises(FolderInUse, match=f"in use by process {os.getpid()}"),
        folder_lock(tmp_path),
    ):
        pass
    with folder_lock(tmp_path):  # released on exit
        pass
    assert list(tmp_path.iterdir()) == []  # no lock file


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_on_a_folder_in_use_is_one_line_and_changes_nothing(tmp_path, capsys, resume):
    out = tmp_path / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    before = _contents(out)
    again = ["--resume", "--quiet"] if resume else [*RUN, "--overwrite"]
    capsys.readouterr()
    with folder_lock(out), pytest.raises(SystemExit) as exit_info:
        main([*again, "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"{out} is in use by process {os.getpid()}" in err
    assert _contents(out) == before


def test_the_lock_ends_with_a_killed_holder(tmp_path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from mfnas.execution.folder_lock import "
         "folder_lock\nwith folder_lock(pathlib.Path(sys.argv[1])):\n    print('held', flush=True)"
         "\n    sys.stdin.read()", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline() == "held\n"  # deterministic: the child holds it now
    with pytest.raises(FolderInUse, match=f"process {holder.pid}"), folder_lock(tmp_path):
        pass
    holder.kill()
    holder.wait()
    with folder_lock(tmp_path):
        pass
