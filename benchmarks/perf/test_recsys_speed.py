"""Speed of recsys training and evaluation, and of the search machinery around them.

Run with ``pytest benchmarks/perf/test_recsys_speed.py --benchmark-only
--benchmark-json=benchmarks/perf/recsys_speed.json`` (the default ``pytest`` run collects
only ``tests/``); add ``-m 'not memory'`` to leave out the live run measured for peak memory.
It needs MovieLens-100K as ``load_ml100k`` finds it; the tabular runs are skipped without
``benchmarks/recsys/``. The whole module takes a few minutes on 2 cores.

Settings: CPU, torch on ``THREADS`` = 1 thread (set for this module, restored after), the
setting of the recorded table (``benchmarks/recsys/CARD.md``) and of every Dask worker, and
one where a 2-core machine's timings depend least on what else runs (``MFNAS_PERF_THREADS=2``
measures another count; the summary records which). Data: the ML-100K training split of
``RecsysTask().split`` (80,808 pairs). ``MF_BPR`` is the space's default model: MF, BPR,
embedding 64, 1 negative, batch 1,024, Adam (lr 1e-3, weight decay 1e-6), init std 0.1.

- ``test_epoch_*``: one training epoch (no validation), ``EPOCH_ROUNDS`` epochs timed one by
  one after a warm-up epoch, of the project's ``Trainer._epoch`` on MF-BPR, NeuMF (the space's
  default tower: 2 layers from width 32, ReLU, no dropout) and LightGCN (2 layers, dim 64),
  and of the plain PyTorch yardstick of ``yardstick.py`` on the same data and settings.
- ``test_ndcg_after_epochs``: MF-BPR and the yardstick each trained ``QUALITY_EPOCHS`` epochs
  per seed of ``QUALITY_SEEDS`` and scored on validation with the project's
  ``RankingEvaluator`` (full ranking, train masked): the quality beside the epoch speed.
- ``test_full_ranking_eval`` / ``test_per_user_loop_eval``: validation metrics of every user
  from one fixed score matrix, the project's chunked evaluator against a per-user loop.
- ``test_smac_hb_ask_tell``: one whole serial ``smac-hb`` study on the recsys space, told
  synthetic curves: its own decision time, at the default budget (``DEFAULT_BUDGET`` full
  trainings) and at 20.
- ``test_predictor_fit_predict``: ``CurvePredictor`` fitting one rung's model on 1,000
  synthetic curves and predicting 1,000 partial ones.
- ``test_tabular_run``: one tabular-replay study (random, surrogate-hb; budget 10) on a
  simulated clock, sqlite store included.
- ``test_peak_memory_live_run`` (marker ``memory``): a short live ``python -m mfnas.bench`` run
  in a subprocess; its peak resident memory.

When timings were measured (not with ``--benchmark-disable``), the module's end writes
``recsys_speed_summary.json`` next to this file: the median seconds of each benchmark, the
epoch speed-up over the yardstick with both NDCG@10s, the evaluation speed-up and the peak
memory, which the README's Performance section quotes. Run the whole module to refresh it:
a partial run writes only what it measured (``"complete": false``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from yardstick import PerUserEvaluator, make_yardstick, yardstick_epoch

from mfnas.cli.bench import DEFAULT_BUDGET
from mfnas.data.movielens import DataError
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.runner import problem_for, run_study
from mfnas.replay import TableError
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import load_space
from mfnas.store import Store
from mfnas.strategies import Strategy, make_strategy
from mfnas.strategies.configs import repair
from mfnas.strategies.curve_predictor import CurvePredictor
from mfnas.tasks.base import Result
from mfnas.tasks.recsys import RecsysConfig, RecsysTask, Split, Trainer, build_model
from mfnas.tasks.recsys.models import Recommender
from mfnas.tasks.training import make_optimizer, seeded

THREADS = int(os.environ.get("MFNAS_PERF_THREADS", "1"))  # torch threads; 1 unless overridden
DEVICE = torch.device("cpu")
EPOCH_ROUNDS = 10  # timed epochs per training benchmark, after one warm-up epoch
QUALITY_EPOCHS = 10
QUALITY_SEEDS = (0, 1, 2)  # only the first with --benchmark-disable
EVAL_ROUNDS = 20
SMAC_ROUNDS = 3
PREDICTOR_ROWS = 1000
PREDICTOR_RUNG = 9  # the partial curves' length: surrogate-hb's highest explore rung
PREDICTOR_ROUNDS = 5
TABULAR_BUDGET = 10  # full trainings
TABULAR_ROUNDS = 3
TARGET_SPEEDUP = 3.0  # the bar for the epoch and the evaluation
LIVE_RUN = (
    *("-m", "mfnas.bench", "--task", "recsys", "--budget", "1", "--seeds", "1"),
    *("--strategies", "random", "--max-epochs", "3", "--quiet"),
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TABLE = REPO / "benchmarks" / "recsys"
SUMMARY = HERE / "recsys_speed_summary.json"
GROUP_EPOCH = f"one training epoch, ML-100K train split, torch threads: {THREADS}"

# Runs the command in argv[1:] and prints its peak resident set size (KiB on Linux, bytes on
# macOS) from a process of its own, so that only that command's memory is counted.
_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print('peak_rss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def recsys_config(model: str, **values: Any) -> RecsysConfig:
    """The space's default configuration with ``model`` and ``values`` set; the hyperparameters
    they make active are at their defaults."""
    space = load_space("recsys")
    defaults = {name: hp.default_value for name, hp in space.items()}
    config = repair(space, {**defaults, "model": model, **values}, np.random.default_rng(0))
    assert all(config[name] == value for name, value in values.items())
    return RecsysConfig.from_mapping(dict(config))


MF_BPR = recsys_config("mf", embedding_dim=64, loss="bpr", num_negatives=1, batch_size=1024)
NEUMF = recsys_config("neumf", embedding_dim=64, loss="bpr", num_negatives=1, batch_size=1024)
LIGHTGCN = recsys_config(
    "lightgcn", gcn_layers=2, embedding_dim=64, loss="bpr", num_negatives=1, batch_size=1024
)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def torch_threads() -> Iterator[None]:
    """torch on ``THREADS`` threads for this module; the previous setting restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[dict[str, Any]]:
    """What the benchmarks measured; written to ``SUMMARY`` at the end when anything was."""
    measured: dict[str, Any] = {"seconds": {}, "info": {}}
    yield measured
    if measured["seconds"]:
        SUMMARY.write_text(json.dumps(build_summary(measured), indent=2) + "\n")


@pytest.fixture(scope="module")
def split() -> Split:
    try:
        return RecsysTask(device="cpu").split
    except DataError as exc:
        pytest.skip(f"MovieLens-100K is not available: {exc}")


@pytest.fixture(scope="module")
def trainer(split: Split) -> Trainer:
    return Trainer(split, DEVICE)


@pytest.fixture(scope="module")
def scores(trainer: Trainer) -> torch.Tensor:
    """A fixed ``(n_users, n_items)`` score matrix: MF after 3 epochs at learning rate 0.01."""
    model, epoch = project_training(trainer, recsys_config("mf", learning_rate=0.01))
    for _ in range(3):
        epoch()
    model.eval()
    with torch.inference_mode():
        return model.score_all(torch.arange(trainer.split.n_users)).clone()


@pytest.fixture(scope="module")
def per_user(split: Split) -> PerUserEvaluator:
    return PerUserEvaluator(split.train, split.val)


@pytest.fixture(scope="module")
def table() -> TabularTask:
    if not (TABLE / "curves.csv.gz").is_file():
        pytest.skip(f"no recorded recsys table in {TABLE} (make it with python -m mfnas.collect)")
    try:
        return TabularTask.from_folder(TABLE)
    except TableError as exc:
        pytest.skip(f"the recorded recsys table is unreadable: {exc}")


# --- helpers -----------------------------------------------------------------------------------


def record(benchmark: Any, summary: dict[str, Any], key: str, **info: Any) -> float | None:
    """Put ``info`` in the benchmark's ``extra_info`` and, when timings were measured, the median
    seconds and ``info`` under ``key`` in the summary; return that median (None if disabled)."""
    benchmark.extra_info.update(info)
    if benchmark.disabled:
        return None
    median = benchmark.stats.stats.median
    summary["seconds"][key] = median
    summary["info"][key] = info
    return median


def project_training(
    trainer: Trainer, config: RecsysConfig, seed: int = 0
) -> tuple[Recommender, Callable[[], float]]:
    """A model built and seeded as ``Trainer.run`` builds it, and its training epoch (a call)."""
    split = trainer.split
    with seeded(DEVICE, seed) as generator:
        model = build_model(config, split.n_users, split.n_items, split.train).to(DEVICE)
        optimizer = make_optimizer(config, model.parameters(), DEVICE)
    return model, lambda: trainer._epoch(model, optimizer, config, generator)


def yardstick_training(
    trainer: Trainer, seed: int = 0
) -> tuple[torch.nn.Module, Callable[[], float]]:
    """The yardstick with ``MF_BPR``'s settings, and its training epoch (a call)."""
    split, c = trainer.split, MF_BPR
    model, optimizer, generator = make_yardstick(
        split.n_users,
        split.n_items,
        c.embedding_dim,
        c.init_std,
        c.learning_rate,
        c.weight_decay,
        seed,
    )
    users, items = trainer.users, trainer.items
    return model, lambda: yardstick_epoch(model, optimizer, users, items, c.batch_size, generator)


def time_epochs(benchmark: Any, epoch: Callable[[], float]) -> None:
    """Time ``EPOCH_ROUNDS`` consecutive epochs after a warm-up one; each loss must be finite."""
    benchmark.group = GROUP_EPOCH
    loss = benchmark.pedantic(epoch, rounds=EPOCH_ROUNDS, warmup_rounds=1)
    assert math.isfinite(loss)


def validation_ndcg(trainer: Trainer, model: torch.nn.Module) -> float:
    """The validation NDCG@10 of ``model.score_all`` by the project's evaluator."""
    model.eval()
    with torch.inference_mode():
        return trainer.validation(model.score_all)["ndcg@10"]


def synthetic_result(config: Any, epochs: int) -> Result:
    """A made-up, deterministic validation curve of a recsys configuration (for strategies):
    a saturating curve whose level depends on the learning rate, embedding size and model."""
    values = dict(config)
    level = (
        0.25
        - 0.03 * abs(math.log10(values["learning_rate"]) + 2.5)
        - 0.005 * abs(math.log2(values["embedding_dim"]) - 6)
        + {"mf": 0.0, "lightgcn": 0.02, "neumf": 0.01}.get(str(values["model"]), -0.01)
    )
    curve = tuple(level * (1 - 0.7**epoch) for epoch in range(1, epochs + 1))
    return Result(
        curve=curve, val={"ndcg@10": curve[-1]}, test=None, seconds=float(epochs), epochs=epochs
    )


def build_summary(measured: dict[str, Any]) -> dict[str, Any]:
    """The summary file's content: medians, ratios, NDCGs and peak memory, with the setting."""
    seconds, info = measured["seconds"], measured["info"]
    expected = {
        "epoch_mf_bpr",
        "epoch_yardstick_bpr",
        "epoch_neumf",
        "epoch_lightgcn",
        "ndcg_after_epochs[mf]",
        "ndcg_after_epochs[yardstick]",
        "full_ranking_eval",
        "per_user_loop_eval",
        f"smac_hb_ask_tell[{DEFAULT_BUDGET}]",
        "smac_hb_ask_tell[20]",
        "predictor_fit_predict",
        "tabular_run[random]",
        "tabular_run[surrogate-hb]",
        "peak_memory_live_run",
    }
    out: dict[str, Any] = {
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "pytest benchmarks/perf/test_recsys_speed.py --benchmark-only "
        "--benchmark-json=benchmarks/perf/recsys_speed.json",
        "complete": expected <= set(seconds),
        "setting": {
            "device": str(DEVICE),
            "torch_threads": THREADS,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
            "processor": platform.processor() or None,
        },
        "median_seconds": dict(sorted(seconds.items())),
        "info": dict(sorted(info.items())),
    }
    if {"epoch_mf_bpr", "epoch_yardstick_bpr"} <= set(seconds):
        speedup = seconds["epoch_yardstick_bpr"] / seconds["epoch_mf_bpr"]
        epoch: dict[str, Any] = {"speedup": speedup, "target": TARGET_SPEEDUP}
        quality = [info.get(f"ndcg_after_epochs[{name}]") for name in ("mf", "yardstick")]
        if all(quality):
            mf, yard = (q["val_ndcg@10"] for q in quality)  # type: ignore[index]
            diff, stderr = _mean_difference(mf, yard)
            epoch |= {
                "epochs": QUALITY_EPOCHS,
                "val_ndcg@10_mf": statistics.mean(mf),
                "val_ndcg@10_yardstick": statistics.mean(yard),
                "ndcg_difference": diff,
                "ndcg_difference_stderr": stderr,
                # equal: within two standard errors of the seed-to-seed noise
                "equal_or_better_ndcg": diff >= -2 * stderr,
            }
            epoch["target_met"] = speedup >= TARGET_SPEEDUP and epoch["equal_or_better_ndcg"]
        out["epoch_vs_yardstick"] = epoch
    if {"full_ranking_eval", "per_user_loop_eval"} <= set(seconds):
        speedup = seconds["per_user_loop_eval"] / seconds["full_ranking_eval"]
        out["eval_vs_per_user_loop"] = {
            "speedup": speedup,
            "target": TARGET_SPEEDUP,
            "target_met": speedup >= TARGET_SPEEDUP,
        }
    if "peak_memory_live_run" in info:
        out["peak_memory_live_run"] = info["peak_memory_live_run"]
    return out


def _mean_difference(a: list[float], b: list[float]) -> tuple[float, float]:
    """``mean(a) - mean(b)`` and its standard error (0 with fewer than two values each)."""
    diff = statistics.mean(a) - statistics.mean(b)
    if min(len(a), len(b)) < 2:
        return diff, 0.0
    return diff, math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))


# --- training ----------------------------------------------------------------------------------


def test_epoch_mf_bpr(benchmark: Any, trainer: Trainer, summary: dict[str, Any]) -> None:
    time_epochs(benchmark, project_training(trainer, MF_BPR)[1])
    record(benchmark, summary, "epoch_mf_bpr", config=asdict(MF_BPR))


def test_epoch_yardstick_bpr(benchmark: Any, trainer: Trainer, summary: dict[str, Any]) -> None:
    time_epochs(benchmark, yardstick_training(trainer)[1])
    median = record(benchmark, summary, "epoch_yardstick_bpr")
    if median is not None and "epoch_mf_bpr" in summary["seconds"]:
        benchmark.extra_info["speedup_of_mf_bpr"] = median / summary["seconds"]["epoch_mf_bpr"]


def test_epoch_neumf(benchmark: Any, trainer: Trainer, summary: dict[str, Any]) -> None:
    time_epochs(benchmark, project_training(trainer, NEUMF)[1])
    record(benchmark, summary, "epoch_neumf", config=asdict(NEUMF))


def test_epoch_lightgcn(benchmark: Any, trainer: Trainer, summary: dict[str, Any]) -> None:
    time_epochs(benchmark, project_training(trainer, LIGHTGCN)[1])
    record(benchmark, summary, "epoch_lightgcn", config=asdict(LIGHTGCN))


def test_project_training_matches_trainer_run(trainer: Trainer) -> None:
    """The epochs timed above are the product's: ``Trainer.run`` reaches the same NDCG."""
    model, epoch = project_training(trainer, MF_BPR, seed=3)
    for _ in range(2):
        epoch()
    assert validation_ndcg(trainer, model) == trainer.run(MF_BPR, 2, seed=3).curve[-1]


@pytest.mark.parametrize("name", ["mf", "yardstick"])
def test_ndcg_after_epochs(
    benchmark: Any, trainer: Trainer, summary: dict[str, Any], name: str
) -> None:
    seeds = QUALITY_SEEDS[:1] if benchmark.disabled else QUALITY_SEEDS

    def train_all() -> list[float]:
        ndcgs = []
        for seed in seeds:
            if name == "mf":
                model, epoch = project_training(trainer, MF_BPR, seed)
            else:
                model, epoch = yardstick_training(trainer, seed)
            for _ in range(QUALITY_EPOCHS):
                epoch()
            ndcgs.append(validation_ndcg(trainer, model))
        return ndcgs

    benchmark.group = f"{QUALITY_EPOCHS} epochs of MF-BPR + validation, {len(seeds)} seeds"
    ndcgs = benchmark.pedantic(train_all, rounds=1)
    assert all(0.0 <= value <= 1.0 for value in ndcgs)
    record(
        benchmark,
        summary,
        f"ndcg_after_epochs[{name}]",
        epochs=QUALITY_EPOCHS,
        seeds=list(seeds),
        **{"val_ndcg@10": ndcgs, "mean_val_ndcg@10": statistics.mean(ndcgs)},
    )


# --- evaluation --------------------------------------------------------------------------------


def test_eval_implementations_agree(
    trainer: Trainer, scores: torch.Tensor, per_user: PerUserEvaluator
) -> None:
    project = trainer.validation(lambda users: scores[users])
    loop = per_user(scores)
    assert project.keys() == loop.keys()
    for key, value in project.items():
        assert value == pytest.approx(loop[key], abs=1e-6), key
    assert project["ndcg@10"] > 0.05  # a trained model: the comparison has hits to count


def test_full_ranking_eval(
    benchmark: Any, trainer: Trainer, scores: torch.Tensor, summary: dict[str, Any]
) -> None:
    benchmark.group = "validation metrics of all users from one score matrix"
    metrics = benchmark.pedantic(
        trainer.validation,
        args=(lambda users: scores[users],),
        rounds=EVAL_ROUNDS,
        warmup_rounds=2,
    )
    record(benchmark, summary, "full_ranking_eval", **{"val_ndcg@10": metrics["ndcg@10"]})


def test_per_user_loop_eval(
    benchmark: Any,
    trainer: Trainer,
    scores: torch.Tensor,
    per_user: PerUserEvaluator,
    summary: dict[str, Any],
) -> None:
    benchmark.group = "validation metrics of all users from one score matrix"
    metrics = benchmark.pedantic(per_user, args=(scores,), rounds=EVAL_ROUNDS, warmup_rounds=2)
    median = record(benchmark, summary, "per_user_loop_eval", **{"val_ndcg@10": metrics["ndcg@10"]})
    if median is not None and "full_ranking_eval" in summary["seconds"]:
        speedup = median / summary["seconds"]["full_ranking_eval"]
        benchmark.extra_info["speedup_of_full_ranking"] = speedup


# --- search machinery --------------------------------------------------------------------------


@pytest.mark.parametrize("full_trainings", [DEFAULT_BUDGET, 20])
def test_smac_hb_ask_tell(benchmark: Any, summary: dict[str, Any], full_trainings: int) -> None:
    """A whole study; the default budget barely leaves Hyperband's first bracket, so a 20-full-
    training budget shows the model-based asks too."""
    task = RecsysTask()
    budget = full_trainings * task.max_epochs
    problem = problem_for(task, budget)

    def fresh() -> tuple[tuple[Strategy], dict]:
        return (make_strategy("smac-hb", problem, seed=0),), {}

    def study(strategy: Strategy) -> int:
        """A serial study until the budget or the proposals run out; how many trials."""
        spent = 0
        for trials in itertools.count():
            spec = strategy.ask(budget - spent)
            if spec is None:
                return trials
            spent += spec.epochs
            strategy.tell(spec, synthetic_result(spec.config, spec.epochs))
        raise AssertionError("unreachable")

    benchmark.group = "search machinery"
    trials = benchmark.pedantic(study, setup=fresh, rounds=SMAC_ROUNDS)
    assert trials > 0
    key = f"smac_hb_ask_tell[{full_trainings}]"
    median = record(benchmark, summary, key, budget_epochs=budget, trials=trials)
    if median is not None:
        benchmark.extra_info["ms_per_ask_tell"] = 1000 * median / trials
        summary["info"][key]["ms_per_ask_tell"] = 1000 * median / trials


def test_predictor_fit_predict(benchmark: Any, summary: dict[str, Any]) -> None:
    space = load_space("recsys")
    space.seed(0)
    configs = [dict(c) for c in space.sample_configuration(2 * PREDICTOR_ROWS)]
    noise = np.random.default_rng(0).normal(0.0, 0.005, (len(configs), RecsysTask.max_epochs))
    curves = [
        tuple(1.0 - np.asarray(synthetic_result(c, RecsysTask.max_epochs).curve) + row)
        for c, row in zip(configs, noise, strict=True)
    ]
    known = list(zip(configs[:PREDICTOR_ROWS], curves[:PREDICTOR_ROWS], strict=True))
    queries = [(c, k[:PREDICTOR_RUNG]) for c, k in zip(configs, curves, strict=True)]
    queries = queries[PREDICTOR_ROWS:]

    def fresh() -> tuple[tuple[CurvePredictor], dict]:
        predictor = CurvePredictor(space, seed=0)
        for values, costs in known:
            predictor.add(values, costs)
        return (predictor,), {}

    benchmark.group = "search machinery"
    predicted = benchmark.pedantic(
        lambda predictor: predictor.predict(queries), setup=fresh, rounds=PREDICTOR_ROUNDS
    )
    assert len(predicted) == PREDICTOR_ROWS and all(math.isfinite(p) for p in predicted)
    record(
        benchmark,
        summary,
        "predictor_fit_predict",
        fit_rows=PREDICTOR_ROWS,
        predict_rows=PREDICTOR_ROWS,
        curve_length=PREDICTOR_RUNG,
    )


@pytest.mark.parametrize("name", ["random", "surrogate-hb"])
def test_tabular_run(
    benchmark: Any, table: TabularTask, name: str, tmp_path: Path, summary: dict[str, Any]
) -> None:
    budget = TABULAR_BUDGET * table.max_epochs
    stores = itertools.count()

    def study() -> Any:
        with Store(tmp_path / f"trials-{next(stores)}.sqlite") as store:
            return run_study(table, name, 0, budget, store, executor=SimulatedExecutor(table))

    benchmark.group = f"one tabular-replay study on recsys, budget {TABULAR_BUDGET}"
    result = benchmark.pedantic(study, rounds=TABULAR_ROUNDS)
    assert 0 < result.epochs_spent <= budget and result.trials > 0
    record(
        benchmark,
        summary,
        f"tabular_run[{name}]",
        budget=TABULAR_BUDGET,
        trials=result.trials,
        simulated_hours=result.wall_seconds / 3600,
    )


# --- memory ------------------------------------------------------------------------------------


@pytest.mark.memory
def test_peak_memory_live_run(benchmark: Any, tmp_path: Path, summary: dict[str, Any]) -> None:
    runs = itertools.count()

    def live_run() -> int:
        out = tmp_path / f"run-{next(runs)}"
        command = [sys.executable, "-c", _PEAK_RSS, sys.executable, *LIVE_RUN, "--out", str(out)]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]
        found = re.findall(r"^peak_rss (\d+)$", done.stdout, flags=re.MULTILINE)
        assert found, done.stdout[-3000:]
        return int(found[-1]) * (1 if sys.platform == "darwin" else 1024)

    benchmark.group = "a short live run (subprocess)"
    peak = benchmark.pedantic(live_run, rounds=1)
    assert peak > 0
    record(
        benchmark,
        summary,
        "peak_memory_live_run",
        peak_rss_mib=round(peak / 2**20, 1),
        command="python " + " ".join(LIVE_RUN) + " --out <tmp>",
        torch_threads="default",
    )
