"""The bad-input matrix: every way of asking ``python -m mfnas.bench`` (and ``evaluate``) for
something that cannot be done is refused with exit status 2 and one line on stderr naming the
problem, and leaves the output folder exactly as it was (or not there at all).

Each case runs against a copy of one small finished toy run (``{run}``), or a folder that does
not exist yet (``{new}``); ``prepare`` breaks the copy first where the case needs it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from mfnas.cli.bench import main
from mfnas.cli.evaluate import main as evaluate_main

RUN = ["--task", "toy", "--strategies", "random", "--budget", "1", "--seeds", "1", "--quiet"]
CHECKOUT = Path(__file__).resolve().parent.parent


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def prepare(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)

    return prepare


BAD_SPACE = "hyperparameters:\n- {name: arch, type: categorical, choices: [linear, wide]}\n"
ALIEN_SPACE = "hyperparameters:\n- {name: embedding, type: uniform_int, lower: 8, upper: 64}\n"
CASES: list[tuple[str, list[str], Callable[[Path], None] | None, str]] = [
    ("unknown-task", ["--task", "nope", "--out", "{new}"], None, "unknown task 'nope'"),
    ("no-task", ["--out", "{new}"], None, "required: --task"),
    ("unknown-strategy", [*RUN, "--strategies", "random,nope", "--out", "{new}"], None,
     "unknown strategy nope"),
    ("budget-zero", [*RUN, "--budget", "0", "--out", "{new}"], None, "positive integer, got 0"),
    ("budget-negative", [*RUN, "--budget", "-2", "--out", "{new}"], None, "got -2"),
    ("budget-word", [*RUN, "--budget", "ten", "--out", "{new}"], None, "'ten' is not an integer"),
    ("budget-huge", [*RUN, "--budget", "1000000000", "--out", "{new}"], None,
     "budget must be at most 10,000"),
    ("budget-list-bad", [*RUN, "--budget", "5,x", "--out", "{new}"], None, "'x' is not an integer"),
    ("seeds-zero", [*RUN, "--seeds", "0", "--out", "{new}"], None, "positive integer, got 0"),
    ("seeds-huge", [*RUN, "--seeds", "5000", "--out", "{new}"], None, "seeds must be at most"),
    ("max-epochs-zero", [*RUN, "--max-epochs", "0", "--out", "{new}"], None, "got 0"),
    ("device-unknown", [*RUN, "--device", "tpu", "--out", "{new}"], None, "invalid choice: 'tpu'"),
    ("mode-unknown", [*RUN, "--mode", "dream", "--out", "{new}"], None, "invalid choice"),
    ("workers-zero", [*RUN, "--workers", "0", "--out", "{new}"], None, "got 0"),
    ("threads-with-workers", [*RUN, "--threads", "2", "--workers", "2", "--out", "{new}"], None,
     "--threads is for evaluations in this process"),
    ("timeout-negative", [*RUN, "--trial-timeout", "-1", "--out", "{new}"], None,
     "positive number of seconds"),
    ("timeout-word", [*RUN, "--trial-timeout", "soon", "--out", "{new}"], None,
     "'soon' is not a number of seconds"),
    ("replay-from-live", [*RUN, "--replay-from", "x", "--out", "{new}"], None,
     "--replay-from needs --mode"),
    ("space-in-replay", [*RUN, "--mode", "tabular", "--space", "spaces/toy.yaml", "--out", "{new}"],
     None, "--space is for live runs"),
    ("replay-missing", [*RUN, "--mode", "tabular", "--replay-from", "/nonexistent", "--out",
                        "{new}"], None, "no tabular benchmark"),
    ("replay-other-task", [*RUN, "--mode", "tabular", "--replay-from",
                           str(CHECKOUT / "benchmarks" / "image"), "--out", "{new}"], None,
     "replays task 'image', not 'toy'"),
    ("replay-timeout", [*RUN, "--mode", "tabular", "--replay-from",
                        str(CHECKOUT / "benchmarks" / "image"), "--task", "image",
                        "--trial-timeout", "5", "--out", "{new}"], None, "not replays"),
    ("space-missing", [*RUN, "--space", "/nonexistent.yaml", "--out", "{new}"], None,
     "cannot read it"),
    ("space-not-yaml", [*RUN, "--space", "{run}/bad.yaml", "--out", "{new}"],
     _write("bad.yaml", "a: [unclosed"), "not valid YAML"),
    ("space-other-names", [*RUN, "--space", "{run}/alien.yaml", "--out", "{new}"],
     _write("alien.yaml", ALIEN_SPACE), "'embedding' is not a hyperparameter of the task"),
    ("space-unbuildable-value", [*RUN, "--space", "{run}/wide.yaml", "--out", "{new}"],
     _write("wide.yaml", BAD_SPACE), "'arch' value 'wide' is not one the task can build"),
    ("out-holds-a-run", [*RUN, "--out", "{run}"], None, "already holds a run"),
    ("suite-over-a-run", [*RUN, "--budget", "1,2", "--out", "{run}"], None, "already holds a run"),
    ("out-is-a-file", [*RUN, "--out", "{run}/run.json"], None, "cannot make the folder"),
    ("resume-and-overwrite", ["--resume", "--overwrite", "--out", "{run}"], None,
     "exclude each other"),
    ("resume-without-out", ["--resume"], None, "--resume needs --out"),
    ("resume-nothing-there", ["--resume", "--out", "{new}"], None, "holds no run to resume"),
    ("resume-other-budget", ["--resume", "--budget", "7", "--out", "{run}"], None,
     "--budget 7 differs from its 1"),
    ("resume-other-strategies", ["--resume", "--strategies", "grid", "--out", "{run}"], None,
     "--strategies ['grid'] differs"),
    ("resume-run-json-list", ["--resume", "--out", "{run}"], _write("run.json", "[]"),
     "holds no run to resume"),
    ("resume-run-json-broken", ["--resume", "--out", "{run}"], _write("run.json", "{not json"),
     "holds no run to resume"),
    ("resume-empty-store", ["--resume", "--out", "{run}"], _write("trials.sqlite", b""),
     "not an intact mfnas store"),
    ("resume-garbage-store", ["--resume", "--out", "{run}"],
     _write("trials.sqlite", b"garbage" * 200), "not an intact mfnas store"),
    ("resume-broken-suite", ["--resume", "--out", "{run}"], _write("suite.json", "{]"),
     "holds no suite to resume"),
    ("continuation-maybe", [*RUN, "--continuation", "maybe", "--out", "{new}"], None,
     "choose on or off, not 'maybe'"),
    ("checkpoint-mb-negative", [*RUN, "--checkpoint-mb", "-1", "--out", "{new}"], None,
     "must be a number >= 0, got -1"),
    ("resume-other-continuation", ["--resume", "--continuation", "off", "--out", "{run}"], None,
     "--continuation off differs from its on"),
    ("budget-seconds-and-budget", [*RUN, "--budget-seconds", "60", "--out", "{new}"], None,
     "give --budget or --budget-seconds, not both"),
    ("budget-seconds-zero", [*RUN[:4], "--budget-seconds", "0", "--out", "{new}"], None,
     "positive number of seconds"),
    ("budget-seconds-unrecorded", [*RUN[:4], "--budget-seconds", "60", "--out", "{new}"], None,
     "needs the cost of an epoch of toy"),
]  # fmt: skip


def _checksum(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("base") / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    return out


def _refused(run: Callable[[], object], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(("argv", "prepare", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    argv, prepare, message, finished_run, tmp_path, capsys
) -> None:
    folder, new = tmp_path / "run", tmp_path / "new"
    shutil.copytree(finished_run, folder)
    if prepare is not None:
        prepare(folder)
    before = _checksum(folder)
    filled = [a.replace("{run}", str(folder)).replace("{new}", str(new)) for a in argv]
    capsys.readouterr()
    assert message in _refused(lambda: main(filled), capsys)
    assert _checksum(folder) == before
    assert not new.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_device_is_refused(tmp_path, capsys) -> None:
    argv = [*RUN, "--device", "cuda", "--out", str(tmp_path / "new")]
    assert "no CUDA device" in _refused(lambda: main(argv), capsys)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "must be a positive integer, got 0"),
        (["--epochs", "-3"], "must be a positive integer, got -3"),
        (["--config", "{not json"], "invalid --config"),
        (["--config", '{"arch": "wide"}'], "invalid --config"),
        (["--cv", "3"], "has no cross-validation"),
    ],
)
def test_evaluate_refuses_bad_input_in_one_line(argv, message, capsys) -> None:
    assert message in _refused(lambda: evaluate_main(["--task", "toy", *argv]), capsys)
