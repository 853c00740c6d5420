"""The XGBoost surrogate: fitting, held-out quality by configuration, saving, replay, the CLI."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import Configuration
from ConfigSpace.hyperparameters import IntegerHyperparameter

from mfnas.cli.collect import main as collect_main
from mfnas.cli.fit_surrogate import main
from mfnas.replay.surrogate import (
    Residuals,
    Surrogate,
    SurrogateError,
    SurrogateTask,
    fit_surrogate,
    group_folds,
    report_epochs,
)
from mfnas.replay.table import Recording
from mfnas.spaces import config_vector, plain_config
from mfnas.tasks.toy import ToyTask

EPOCHS = 9
FAST = {"n_estimators": 60, "learning_rate": 0.1, "max_depth": 4}  # small models, quick tests


def _record(
    task: ToyTask, configs: list[Configuration], crash_above: float = 2.0
) -> list[Recording]:
    """Toy recordings whose epoch seconds grow with depth, and which crash when x > crash_above."""
    recordings = []
    for i, config in enumerate(configs):
        values = plain_config(config)
        if values["x"] > crash_above:
            recordings.append(Recording(i, values, 0, error="diverged"))
            continue
        result = task.evaluate(config, task.max_epochs, 0)
        per_epoch = 0.05 * (1 + values.get("depth", 0)) * (1 + values["x"])
        recordings.append(
            Recording(
                i, values, 0, result.curve, (per_epoch,) * task.max_epochs, result.val, result.test
            )
        )
    return recordings


@pytest.fixture(scope="module")
def toy9() -> ToyTask:
    return ToyTask(max_epochs=EPOCHS)


@pytest.fixture(scope="module")
def configs(toy9: ToyTask) -> list[Configuration]:
    toy9.space.seed(1)
    return toy9.space.sample_configuration(60)


@pytest.fixture(scope="module")
def fitted(toy9: ToyTask, configs: list[Configuration]) -> tuple[Surrogate, dict]:
    recordings = _record(toy9, configs[:40])
    return fit_surrogate(recordings, toy9.space, EPOCHS, "score", True, params=FAST)


@pytest.fixture(scope="module")
def task(fitted: tuple[Surrogate, dict], tmp_path_factory: pytest.TempPathFactory) -> SurrogateTask:
    folder = tmp_path_factory.mktemp("surrogate")
    fitted[0].save(folder)
    return SurrogateTask.from_folder(folder)


def test_fit_reports_sane_held_out_quality(fitted: tuple[Surrogate, dict]) -> None:
    surrogate, quality = fitted
    assert surrogate.quality == quality and set(surrogate.boosters) == {"objective", "cost", "gap"}
    assert quality["configs_ok"] == 40 and quality["configs_crashed"] == 0
    assert quality["n_splits"] == 5
    assert [row["epoch"] for row in quality["objective"]] == [1, 3, 9]
    for row in quality["objective"]:
        assert row["r2"] <= 1 and -1 <= row["kendall"] <= 1
        assert row["spearman"] > 0.5  # the toy objective is easy to rank
    assert quality["spearman_final"] == quality["objective"][-1]["spearman"]
    assert quality["cost"]["spearman"] > 0.8 and quality["test"]["spearman"] > 0.5


def test_a_prediction_carries_the_residuals_of_a_recorded_neighbour(fitted, configs) -> None:
    surrogate, quality = fitted
    assert set(quality["residuals"]) == {"recorded", "predicted", "drawn"}
    residuals = surrogate.residuals
    assert residuals.curves.shape == (40, EPOCHS) and list(residuals.anchors) == sorted(
        residuals.anchors
    )
    rewritten = 0
    for config in configs[40:45]:
        values = dict(config)
        curve, _, test, _ = surrogate.predict(values)
        assert surrogate.predict(values)[2] == test  # the same values, the same answer
        floats = {  # an integer hyperparameter's value written as a float
            k: float(v) if isinstance(surrogate.space[k], IntegerHyperparameter) else v
            for k, v in values.items()
        }
        rewritten += floats != values or any(
            type(v) is not type(values[k]) for k, v in floats.items()
        )
        assert surrogate.predict(floats)[2] == test  # however the numbers are written
        vector = config_vector(surrogate.space, values)[None, :]
        rows = np.column_stack([np.repeat(vector, EPOCHS, axis=0), np.arange(1, EPOCHS + 1)])
        raw = np.clip(surrogate.boosters["objective"].inplace_predict(rows), 0.0, 1.0)
        gap = surrogate.boosters["gap"].inplace_predict(vector)[0]
        j = [
            i for i in range(40)
            if np.allclose(curve, np.clip(raw + residuals.curves[i], *residuals.bounds))
        ]  # fmt: skip
        assert j and any(
            test
            == pytest.approx(np.clip(curve[-1] + gap + residuals.gaps[i], *residuals.test_bounds))
            for i in j
        )
        assert np.all(residuals.bounds[0] <= curve) and np.all(curve <= residuals.bounds[1])
    assert rewritten  # some of them had an integer hyperparameter


def test_a_residual_is_drawn_among_the_nearest_predicted_finals() -> None:
    n, epochs = 100, 3
    residuals = Residuals(
        anchors=np.arange(n, dtype=float), curves=np.zeros((n, epochs)), gaps=np.zeros(n),
        bounds=np.array([[0.0] * epochs, [1.0] * epochs]), test_bounds=np.array([0.0, 1.0]),
    )  # fmt: skip
    draws = np.linspace(0.0, 0.9999, 500)
    assert {residuals.neighbour(50.2, d) for d in draws} == set(range(26, 76))  # 50 around it
    assert {residuals.neighbour(-5.0, d) for d in draws} == set(range(50))  # at the ends
    assert {residuals.neighbour(1e3, d) for d in draws} == set(range(50, 100))
    curve, test = residuals.add(np.array([0.5, 1.2, -0.1]), 0.3, 0.5)
    assert list(curve) == [0.5, 1.0, 0.0] and test == 0.3  # kept within the recorded ranges


def test_a_surrogate_of_the_earlier_format_asks_to_be_fitted_again(fitted, tmp_path) -> None:
    fitted[0].save(tmp_path)
    meta = json.loads((tmp_path / "surrogate.json").read_text())
    (tmp_path / "surrogate.json").write_text(json.dumps({**meta, "format": 1}))  # a test model
    with pytest.raises(SurrogateError, match=r"format 1, .* python -m mfnas\.fit_surrogate"):
        Surrogate.load(tmp_path)
    fitted[0].save(tmp_path)
    (tmp_path / "residuals.json").unlink()  # this format, a file missing: broken, not old
    with pytest.raises(SurrogateError, match=r"cannot read the surrogate: .*residuals\.json"):
        Surrogate.load(tmp_path)
    fitted[0].save(tmp_path)
    residuals = json.loads((tmp_path / "residuals.json").read_text())
    (tmp_path / "residuals.json").write_text(json.dumps({**residuals, "test_bounds": [0.1]}))
    with pytest.raises(SurrogateError, match=r"broken surrogate: .*finite residuals"):
        Surrogate.load(tmp_path)


def test_report_epochs_are_clamped_and_deduplicated() -> None:
    assert report_epochs(27) == [1, 3, 9, 27]
    assert report_epochs(5) == [1, 3, 5]
    assert report_epochs(1) == [1]


def test_group_folds_keep_each_configuration_on_one_side() -> None:
    groups = np.repeat([f"config{i}" for i in range(7)], 4)
    folds = group_folds(groups, 5)
    assert len(folds) == 5
    for train, held in folds:
        assert not set(groups[train]) & set(groups[held])
    assert sorted(np.concatenate([held for _, held in folds])) == list(range(len(groups)))


def test_fitting_is_deterministic(toy9: ToyTask, configs: list[Configuration], fitted) -> None:
    again, quality = fit_surrogate(_record(toy9, configs[:40]), toy9.space, EPOCHS, "score", True,
                                   params=FAST)  # fmt: skip
    assert quality == fitted[1]
    for config in configs[40:45]:
        first, second = fitted[0].predict(dict(config)), again.predict(dict(config))
        assert np.array_equal(first[0], second[0]) and first[1:] == second[1:]


def test_too_few_configurations_is_an_error(toy9: ToyTask, configs: list[Configuration]) -> None:
    with pytest.raises(ValueError, match="need 5 ok configurations"):
        fit_surrogate(_record(toy9, configs[:4]), toy9.space, EPOCHS, "score", True, params=FAST)


def test_save_and_load_give_identical_predictions(fitted, configs, tmp_path: Path) -> None:
    surrogate = fitted[0]
    surrogate.curves_sha256 = "ab" * 32
    surrogate.save(tmp_path)
    loaded = Surrogate.load(tmp_path)
    meta = json.loads((tmp_path / "surrogate.json").read_text())
    assert meta["curves_sha256"] == "ab" * 32 and meta["feature_names"][-1] == "epoch"
    assert loaded.quality == surrogate.quality and loaded.epochs == EPOCHS
    for config in configs[40:]:
        before, after = surrogate.predict(dict(config)), loaded.predict(dict(config))
        assert np.array_equal(before[0], after[0]) and before[1:] == after[1:]


def test_a_broken_folder_is_a_surrogate_error(tmp_path: Path) -> None:
    with pytest.raises(SurrogateError, match="cannot read"):
        Surrogate.load(tmp_path)
    (tmp_path / "surrogate.json").write_text('{"format": 2}')
    with pytest.raises(SurrogateError, match="broken surrogate"):
        SurrogateTask.from_folder(tmp_path)


def test_surrogate_task_replays_curves(task: SurrogateTask, configs, toy9: ToyTask) -> None:
    assert (task.mode, task.name, task.metric, task.maximize) == ("surrogate", "toy", "score", True)
    assert (task.min_epochs, task.max_epochs) == (1, EPOCHS) and Path(task.source).is_dir()
    assert list(task.space.keys()) == list(toy9.space.keys())
    clone = pickle.loads(pickle.dumps(task))
    for config in configs[40:]:
        full = task.evaluate(config, EPOCHS, seed=0)
        assert full.test is not None and set(full.test) == {"score"}
        assert all(0 <= v <= 1 for v in full.curve) and full.epochs == EPOCHS
        for epochs in (1, 4):
            result = task.evaluate(config, epochs, seed=epochs)
            assert len(result.curve) == epochs and result.curve == full.curve[:epochs]
            assert result.test is None and result.val == {"score": result.curve[-1]}
            assert result.seconds == pytest.approx(sum(result.epoch_seconds))
            assert result.seconds == task.cost(config, epochs) > 0
            assert task.cost(config, epochs) == pytest.approx(task.cost(config, 1) * epochs)
        assert task.evaluate(config, 4, seed=7) == clone.evaluate(config, 4, seed=3)
    with pytest.raises(ValueError, match=r"epochs must be in 1\.\.9"):
        task.evaluate(configs[0], EPOCHS + 1, 0)


def test_crash_classifier(toy9: ToyTask, configs: list[Configuration], tmp_path: Path) -> None:
    recordings = _record(toy9, configs[:40], crash_above=0.6)
    assert sum(not r.ok for r in recordings) >= 5
    surrogate, quality = fit_surrogate(recordings, toy9.space, EPOCHS, "score", True, params=FAST)
    assert "crash" in surrogate.boosters and quality["configs_crashed"] >= 5
    surrogate.save(tmp_path)
    task = SurrogateTask.from_folder(tmp_path)
    values = {"arch": "linear", "lr": 0.003, "x": 0.95}
    crashing = Configuration(toy9.space, values=values)
    with pytest.raises(RuntimeError, match="surrogate predicts this configuration crashes"):
        task.evaluate(crashing, 3, 0)
    assert task.cost(crashing, 3) > 0  # a crash still costs simulated time
    fine = Configuration(toy9.space, values={**values, "x": 0.1})
    assert len(task.evaluate(fine, 3, 0).curve) == 3
    # a refit without crashes in the same folder leaves no stale crash model behind
    ok = [r for r in recordings if r.ok]
    without, _ = fit_surrogate(ok, toy9.space, EPOCHS, "score", True, params=FAST)
    without.save(tmp_path)
    assert "crash" not in Surrogate.load(tmp_path).boosters


def test_cli_writes_the_model_and_its_card(tmp_path: Path, capsys) -> None:
    bench, out = tmp_path / "bench", tmp_path / "surrogate"
    assert collect_main(["--task", "toy", "--configs", "20", "--out", str(bench), "--quiet"]) == 0
    assert main(["--task", "toy", "--benchmark", str(bench), "--out", str(out)]) == 0
    text = (out / "CARD.md").read_text()
    assert re.search(r"^spearman_final: -?\d\.\d{3}$", text, re.MULTILINE)
    sha = hashlib.sha256((bench / "curves.csv.gz").read_bytes()).hexdigest()
    assert sha in text and "| epoch | R² | Spearman | Kendall tau |" in text
    assert f"python -m mfnas.fit_surrogate --task toy --benchmark {bench}" in text
    assert Surrogate.load(out).curves_sha256 == sha
    assert "surrogate saved in" in capsys.readouterr().out


@pytest.mark.parametrize("broken", ["missing", "table", "collection"])
def test_cli_refuses_a_missing_or_broken_benchmark(broken: str, tmp_path: Path, capsys) -> None:
    bench = tmp_path / "bench"
    if broken != "missing":
        bench.mkdir()
        space = ToyTask().space.to_serialized_dict()
        meta = {"task": "toy", "space": space, "metric": "score", "maximize": True, "epochs": 27}
        text = "{not json" if broken == "collection" else json.dumps(meta)
        (bench / "collection.json").write_text(text)
        with gzip.open(bench / "curves.csv.gz", "wt") as handle:
            handle.write("not,a,table\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", "--benchmark", str(bench), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m mfnas.fit_surrogate: error:")
    assert {"missing": "no such benchmark folder", "table": "not a curves table",
            "collection": "collection.json: broken"}[broken] in err  # fmt: skip
    assert not (tmp_path / "out").exists()
