"""Export the model a run found: train it at full fidelity again and write a model folder.

``export_model(run_dir, out)`` picks the run's best model by validation (the incumbent of the
study whose incumbent scored best; ``strategy`` and ``seed`` pick one study's incumbent),
rebuilds the run's task (its space, fidelity, data folder), trains the configuration for the
full fidelity with the training seed the run used for it (``config_seed``) and the run's torch
thread count, and writes the bundle (``mfnas.deploy.bundle``) with the task's serving parts
(``mfnas.deploy.served``) and a model card. Where the run's folder still holds a checkpoint
of that configuration (a study that did not finish), the training continues from it.

A live run's training is reproduced: on the same machine type, library versions and thread
count the export's metrics equal the run's record of that trial, and the manifest says so
(``reproduces_record``). A replayed run's record came from a recording or a surrogate: the
export trains the configuration live (with the recording's training seed, run seed 0) and
records both, without claiming they match.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.deploy.bundle import Bundle, family, write_bundle
from mfnas.deploy.served import SERVED, ExportParts
from mfnas.direction import Direction
from mfnas.execution.benchmark import CHECKPOINTS, RUN_JSON
from mfnas.execution.checkpoints import (
    CheckpointError,
    checkpoint_identity,
    kept_checkpoints,
    load_checkpoint,
)
from mfnas.execution.runner import told_result
from mfnas.provenance import VERSIONED, now, versions
from mfnas.spaces import config_seed, plain_config
from mfnas.store import Status, Store, StoreError, TrialRecord, incumbent
from mfnas.tasks import make_task
from mfnas.tasks.base import Checkpoint, Result, Task
from mfnas.tasks.device import resolve_device


class ExportError(ValueError):
    """A run that cannot be exported (no store, no full-fidelity trial, an untrained task, a
    study that is not there); one line."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the manifest, and the epoch its training continued from."""

    manifest: dict[str, Any]
    continued_from: int


def choose_record(
    records: list[TrialRecord],
    max_epochs: int,
    direction: Direction,
    strategy: str | None = None,
    seed: int | None = None,
) -> TrialRecord:
    """The incumbent (best full-fidelity validation score, first on ties) of the studies
    ``strategy`` and ``seed`` select (all when None). Raises ExportError when there is none."""
    chosen = [
        r
        for r in records
        if (strategy is None or r.strategy == strategy) and (seed is None or r.seed == seed)
    ]
    if not chosen:
        which = " ".join(
            f"--{name} {value}"
            for name, value in (("strategy", strategy), ("seed", seed))
            if value is not None
        )
        raise ExportError(f"the run has no trials of {which or 'any study'}")
    best = incumbent(chosen, max_epochs, direction)
    if best is None:
        raise ExportError(
            f"no trial of the chosen studies finished at full fidelity ({max_epochs})"
        )
    return best


def _run_info(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / RUN_JSON).read_text())
    except (OSError, ValueError):
        return {}


def _threads(options: dict[str, Any]) -> int | None:
    """The torch thread count the run's evaluations had (None: torch's default)."""
    if options.get("threads"):
        return int(options["threads"])
    workers = options.get("workers")
    return 1 if (workers and workers > 1) or options.get("scheduler") else None


def _start(
    task: Task,
    run_dir: Path,
    record: TrialRecord,
    config: Configuration,
    seed: int,
    records: list[TrialRecord],
) -> Checkpoint | None:
    """The furthest checkpoint of ``config`` left in the study's folder, if any is readable
    (``records``: the run's, for the trial each file belongs to)."""
    folder = run_dir / CHECKPOINTS / f"{record.strategy}-seed{record.seed}"
    study = (record.strategy, record.seed)
    trials = {r.trial_id: r for r in records if (r.strategy, r.seed) == study}
    for epochs, trial_id, path in kept_checkpoints(folder, config):
        kept = trials.get(trial_id)
        if kept is None or kept.status is not Status.OK or not epochs < task.max_epochs:
            continue
        try:
            state = load_checkpoint(str(path), checkpoint_identity(task, config, seed, epochs))
        except CheckpointError:
            continue
        return Checkpoint(told_result(kept), state)
    return None


def _card(manifest: dict[str, Any]) -> str:
    """MODEL.md: the model card."""
    source, metrics = manifest["source"], manifest["metrics"]
    lines = [
        f"# {manifest['task']} model: {family(manifest['config'])}",
        "",
        f"Found by `{source['strategy']}` (run seed {source['seed']}, trial {source['trial']}) "
        f"in the {source['mode']} run `{source['run_dir']}`, then trained for "
        f"{manifest['epochs']} epochs with training seed {manifest['seed']} by "
        f"`python -m mfnas.export` on {manifest['created']}.",
        "",
        "## Metrics after the last epoch",
        "",
        "| metric | validation | test | the run's record (test) |",
        "|---|---|---|---|",
    ]
    recorded = (manifest.get("recorded") or {}).get("test") or {}
    for name, value in metrics["val"].items():
        test, then = metrics["test"].get(name), recorded.get(name)
        then_text = "" if then is None else f"{then:.4f}"
        lines.append(f"| {name} | {value:.4f} | {test:.4f} | {then_text} |")
    verdict = {
        True: "the export's metrics equal the run's record of this training",
        False: "the export's metrics differ from the run's record (another machine, "
        "library version or thread count changes the last bits of a training)",
        None: "the run's record came from a replay (a recording or a surrogate), not a training",
    }[manifest["reproduces_record"]]
    serving = manifest["serving"]
    lines += [
        "",
        f"Reproduction: {verdict}.",
        "",
        "## Configuration",
        "",
        "```json",
        json.dumps(manifest["config"], indent=2, sort_keys=True),
        "```",
        "",
        "## Data",
        "",
        manifest["data_card"],
        "",
        "Fingerprint: "
        + ", ".join(f"{k} `{v}`" for k, v in sorted(manifest["data"].items()) if k != "dataset"),
        "",
        "## Serving",
        "",
        f"`python -m mfnas.serve <this folder>` answers `POST /{serving['endpoint']}`; "
        "`/docs` shows the API. What is served: "
        + ", ".join(f"{k} {v}" for k, v in sorted(serving.items()) if k != "endpoint")
        + ".",
        "",
    ]
    return "\n".join(lines)


def export_model(
    run_dir: Path,
    out: Path,
    strategy: str | None = None,
    seed: int | None = None,
    device: str = "auto",
    data_dir: str | None = None,
    overwrite: bool = False,
) -> Exported:
    """Export the model of ``run_dir`` chosen as ``choose_record`` says into ``out`` (see the
    module docstring). ``data_dir`` (default: the run's) and ``device`` are where the task's
    data and the training go. Raises ExportError, BundleError, DataError, and what training
    raises."""
    import torch

    run_dir = Path(run_dir)
    if not (run_dir / "trials.sqlite").is_file():
        raise ExportError(f"{run_dir} holds no run (no trials.sqlite)")
    info = _run_info(run_dir)
    options = info.get("options") or {}
    try:
        store = Store(run_dir / "trials.sqlite", readonly=True)
    except StoreError as exc:
        raise ExportError(str(exc)) from None
    with store:
        meta = store.meta()
        name = meta.get("task")
        if name not in SERVED:
            raise ExportError(
                f"task {name!r} trains no model to export; exportable: {', '.join(SERVED)}"
            )
        direction = Direction.of(meta["maximize"])
        records = store.records()
        record = choose_record(records, meta["max_epochs"], direction, strategy, seed)
        space = ConfigurationSpace.from_serialized_dict(meta["space"])
        task = make_task(
            name,
            space=space,
            max_epochs=meta["max_epochs"],
            device=device,
            data_dir=data_dir if data_dir is not None else options.get("data_dir"),
        )
        config = Configuration(space, values=record.config)
        live = meta.get("mode", "live") == "live"
        train_seed = config_seed(config, record.seed if live else 0)
        start = _start(task, run_dir, record, config, train_seed, records) if live else None
    threads = _threads(options)
    before = torch.get_num_threads()
    started = time.perf_counter()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        result = task.evaluate(config, task.max_epochs, train_seed, start, keep=True)
    finally:
        torch.set_num_threads(before)
    inner = getattr(task, "task", task)  # a run over another space wraps its task
    weights = result.state["model"]
    parts = SERVED[name].export_parts(inner, plain_config(config))
    manifest = _manifest(meta, record, config, result, train_seed, live, run_dir, inner, parts)
    manifest["training"] = {
        "seconds": time.perf_counter() - started,
        "continued_from": result.continued_from,
        "torch_threads": threads or before,
        "device": str(resolve_device(device)),
    }
    write_bundle(out, Bundle(manifest, weights, parts.arrays), _card(manifest), overwrite)
    return Exported(manifest, result.continued_from)


def _manifest(
    meta: dict[str, Any],
    record: TrialRecord,
    config: Configuration,
    result: Result,
    train_seed: int,
    live: bool,
    run_dir: Path,
    task: Task,
    parts: ExportParts,
) -> dict[str, Any]:
    """The manifest of an export (see ``mfnas.deploy.bundle``)."""
    metrics = {"val": dict(result.val), "test": dict(result.test or {})}
    recorded = {"val": dict(record.val), "test": dict(record.test or {})}
    return {
        "task": meta["task"],
        "metric": meta["metric"],
        "maximize": meta["maximize"],
        "config": plain_config(config),
        "seed": train_seed,
        "epochs": result.epochs,
        "source": {
            "run_dir": str(run_dir),
            "mode": meta.get("mode", "live"),
            "strategy": record.strategy,
            "seed": record.seed,
            "trial": record.trial_id,
            "command": meta.get("command"),
        },
        "metrics": metrics,
        "recorded": recorded,
        "reproduces_record": metrics == recorded if live else None,
        "data": parts.data,
        "data_card": task.data_card(),
        "serving": parts.serving,
        "versions": versions(("mfnas", *VERSIONED)),
        "created": now(),
    }
