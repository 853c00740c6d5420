"""``python -m mfnas.bench --tensorboard DIR``: every trial as a TensorBoard run, read back with
TensorBoard's own event reader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mfnas.cli.bench import main as bench
from mfnas.store import Status, Store

RUN = ["--task", "toy", "--strategies", "random,hyperband", "--budget", "2", "--seeds", "1"]


def _events(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder))
    events.Reload()
    return events


def test_every_trial_is_a_run_with_its_curve_and_configuration(tmp_path: Path) -> None:
    logs = tmp_path / "tb"
    assert bench([*RUN, "--out", str(tmp_path / "run"), "--tensorboard", str(logs), "--quiet"]) == 0
    with Store(tmp_path / "run" / "trials.sqlite", readonly=True) as store:
        records = store.records()
    runs = {p.relative_to(logs).as_posix() for p in logs.glob("*/trial*")}
    assert runs == {f"{r.strategy}-seed{r.seed}/trial{r.trial_id:04d}" for r in records}
    record = max((r for r in records if r.status is Status.OK), key=lambda r: r.epochs)
    folder = logs / f"{record.strategy}-seed{record.seed}" / f"trial{record.trial_id:04d}"
    scalars = _events(folder).Scalars("val/score")
    assert [s.step for s in scalars] == list(range(1, record.epochs + 1))
    assert [s.value for s in scalars] == pytest.approx(record.curve, rel=1e-6)  # float32
    plugins = _events(folder).PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in plugins
    start = plugins["_hparams_/session_start_info"].decode(errors="replace")
    assert all(name in start for name in record.config)


def test_without_the_package_the_run_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name)
    )
    with pytest.raises(SystemExit) as stopped:
        bench([*RUN, "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb")])
    error = capsys.readouterr().err.strip()
    assert stopped.value.code == 2 and "mfnas[tensorboard]" in error and "\n" not in error
    assert not (tmp_path / "run").exists() and not (tmp_path / "tb").exists()
