"""``python -m mfnas.collect``: record full learning curves of space-filling configurations.

The configurations are the first ``--configs`` points of a scrambled Sobol design over the task's
space (SMAC's ``SobolInitialDesign`` seeded with ``--seed``; conditions respected, inactive
hyperparameters left out), so any prefix of a collection is itself space-filling and a larger
``--configs`` extends a smaller one. Each is trained to the task's maximum epochs with one torch
thread (recorded times mean the same whatever ``--workers``), its per-epoch validation objective
and seconds and final validation and test metrics recorded. ``curves.csv.gz`` is rewritten
after every finished configuration, so an interrupted collection loses at most the ones in
flight and the same command resumes it. ``collection.json`` keeps the collection's identity
(task, space, seed, epochs) and history; ``CARD.md`` is rebuilt from both at the end.
``references.json`` keeps the task's reference rows on the same split, computed when the
collection starts, so that replays show them without loading the data or fitting a model.

A collection can be extended to a grown space (new architecture families, say) without
throwing it away: ``--where model=multdae,multvae,dlae`` records ``--configs`` more
configurations, the first points of the Sobol design over the task's current space that
have one of those values, after the ids recorded so far. Every configuration recorded before
must be valid in the grown space (the new hyperparameters inactive for them); the collection
then keeps the grown space, and ``collection.json`` lists each design (which ids, which rule,
which space) so the card can say how the union is meant to be read.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import shlex
import statistics
import sys
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ConfigSpace import Configuration, ConfigurationSpace
from tqdm import tqdm

from mfnas.cli.common import OneLineParser, positive_int
from mfnas.data.movielens import DataError
from mfnas.direction import Direction
from mfnas.execution import interrupts
from mfnas.execution.executors import Executor, Outcome, SerialExecutor
from mfnas.provenance import machine, now, versions
from mfnas.replay.table import (
    META,
    REFERENCES,
    REPLICAS,
    TABLE,
    Recording,
    TableError,
    read_table,
    write_references,
    write_table,
)
from mfnas.spaces import config_seed, plain_config, space_hash
from mfnas.strategies.base import TrialSpec
from mfnas.tasks import TASKS, Task, make_task

CARD = "CARD.md"

EXAMPLES = """examples:
  python -m mfnas.collect --task recsys --configs 1000 --seed 0       # benchmarks/recsys/
  python -m mfnas.collect --task recsys --configs 1000 --seed 0 --workers 2
  python -m mfnas.collect --task toy --configs 64 --out /tmp/toy-curves

Run the same command again to resume; raise --configs to extend a collection.
"""


class CollectError(ValueError):
    """A collection that cannot go on as asked (its folder holds a different one)."""


def design(space: ConfigurationSpace, n: int, seed: int) -> list[Configuration]:
    """The first ``n`` points of ``space``'s scrambled Sobol design seeded ``seed``.

    The first ``n`` points are the same for any larger ``n`` (Sobol sequences are extensible).
    """
    from smac import Scenario
    from smac.initial_design import SobolInitialDesign

    scenario = Scenario(space, n_trials=n, seed=seed, deterministic=True)
    with warnings.catch_warnings():  # Sobol's balance warning when n is not a power of two
        warnings.simplefilter("ignore")
        initial = SobolInitialDesign(scenario, n_configs=n, max_ratio=1.0, seed=seed)
        return initial.select_configurations()[:n]


def _identity(task: Task, seed: int) -> dict[str, Any]:
    """What must stay the same for a collection to be resumed or extended."""
    return {
        "task": task.name,
        "space_hash": space_hash(task.space),
        "seed": seed,
        "epochs": task.max_epochs,
        "metric": task.metric,
        "maximize": task.maximize,
    }


def parse_where(text: str | None) -> dict[str, list[Any]] | None:
    """``NAME=V1,V2`` as ``{NAME: [V1, V2]}`` (values as written; matched as text)."""
    if text is None:
        return None
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise CollectError(f"--where {text!r}: write NAME=VALUE[,VALUE...]")
    return {name.strip(): [v.strip() for v in values.split(",") if v.strip()]}


def _designs(meta: dict[str, Any], recordings: list[Recording]) -> list[dict[str, Any]]:
    """The collection's designs (a collection from before designs were kept has one: the
    Sobol design over its space from id 0); a design kept without its space was drawn over
    the collection's space of the same hash, which it gets back."""
    designs = meta.get("designs") or [
        {"first_id": 0, "where": None, "space_hash": meta["space_hash"], "seed": meta["seed"]}
    ]
    for entry in designs:
        if "space" not in entry and entry["space_hash"] == meta["space_hash"]:
            entry["space"] = copy.deepcopy(meta["space"])
    return designs


def open_collection(
    out: Path, task: Task, seed: int, command: str, where: dict[str, list[Any]] | None = None
) -> tuple[dict, list[Recording]]:
    """The collection metadata and recordings already in ``out`` (both empty for a new one),
    with this ``command`` added to its history and, with ``where``, the design it extends the
    collection by (new, or the one it resumes). Raises CollectError when ``out`` holds a
    collection of another task, seed or fidelity, or of another space (unless ``where``
    extends it to the task's space and every recorded configuration is valid there),
    TableError for a broken table."""
    meta_path, table_path = out / META, out / TABLE
    identity = _identity(task, seed)
    recordings = read_table(table_path)[0] if table_path.exists() else []
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        for key, value in identity.items():
            if meta.get(key) == value or (key == "space_hash" and where is not None):
                continue
            raise CollectError(
                f"{out} holds a collection with {key} {meta.get(key)!r}, not {value!r}; "
                + ("extend it with --where NAME=VALUES, or " if key == "space_hash" else "")
                + "choose another --out"
            )
    elif table_path.exists():
        raise CollectError(f"{table_path} exists without {META}; choose another --out")
    else:
        meta = {**identity, "space": task.space.to_serialized_dict(), "commands": []}
    if where is not None:
        _extend(meta, recordings, task, where)
    meta["commands"].append({"command": command, "started": now()})
    return meta, recordings


def _extend(
    meta: dict[str, Any], recordings: list[Recording], task: Task, where: dict[str, list[Any]]
) -> None:
    """Make ``meta`` hold the design ``where`` over the task's space (after the recorded ids),
    growing the collection's space to the task's when they differ. Raises CollectError."""
    space = task.space
    ((name, values),) = where.items()
    if name not in space or space.parent_conditions_of[name]:
        raise CollectError(f"--where {name}: not an unconditional hyperparameter of the space")
    known = [str(v) for v in getattr(space[name], "choices", getattr(space[name], "sequence", ()))]
    unknown = [v for v in values if v not in known]
    if unknown or not values:
        raise CollectError(f"--where {name}: {', '.join(unknown) or '(none)'} not among {known}")
    for recording in recordings:
        try:
            Configuration(space, values=recording.config).check_valid_configuration()
        except Exception as exc:  # ConfigSpace raises several kinds
            raise CollectError(
                f"configuration {recording.id} is not valid in the task's space ({exc}); the "
                "collection cannot grow into it"
            ) from None
    designs = _designs(meta, recordings)
    rule = {"where": {name: values}, "space_hash": space_hash(space), "seed": meta["seed"]}
    if not any(_follows(d, rule) for d in designs):
        last = designs[-1]
        taken = max((r.id for r in recordings), default=-1) + 1
        reserved = last["first_id"] + last.get("configs", 0)
        designs.append(
            {"first_id": max(taken, reserved), **rule, "space": space.to_serialized_dict()}
        )
    meta.update(designs=designs, space=space.to_serialized_dict(), space_hash=space_hash(space))


def _follows(design_entry: dict[str, Any], rule: dict[str, Any]) -> bool:
    """True when a design was drawn by ``rule`` (its values, space and seed)."""
    return all(design_entry.get(key) == value for key, value in rule.items())


def _closed(meta: dict[str, Any]) -> float:
    """The first id after the first design (infinity while the collection has one design)."""
    designs = meta.get("designs") or []
    return designs[1]["first_id"] if len(designs) > 1 else float("inf")


def planned(
    meta: dict[str, Any], task: Task, configs: int, where: dict[str, list[Any]] | None
) -> dict[int, Configuration]:
    """The configurations to have recorded, by id, as configurations of the task's space: the
    first ``configs`` points of the first design (without ``where``) or of the latest design
    drawn by ``where`` over the task's space, regenerated from the space each was drawn
    over. A design followed by another is closed at the ids before it: asking it for more
    raises CollectError."""
    designs = _designs(meta, [])
    if where is None:
        index = 0
    else:
        rule = {"where": where, "space_hash": space_hash(task.space), "seed": meta["seed"]}
        index = max(i for i, d in enumerate(designs) if _follows(d, rule))
    chosen = designs[index]
    if index + 1 < len(designs):
        room = designs[index + 1]["first_id"] - chosen["first_id"]
        if configs > room:
            raise CollectError(
                f"that design was closed at {room} configurations when the collection grew "
                "further; extend the collection with another --where"
            )
    chosen["configs"] = max(configs, chosen.get("configs", 0))
    points = _design_points(chosen, configs)
    return {chosen["first_id"] + i: Configuration(task.space, values=dict(c))
            for i, c in enumerate(points)}  # fmt: skip


def _design_points(entry: dict[str, Any], configs: int) -> list[Configuration]:
    """The first ``configs`` points of a design (those matching its ``where``), over the space
    it was drawn from."""
    space = ConfigurationSpace.from_serialized_dict(copy.deepcopy(entry["space"]))  # it pops keys
    if entry.get("where") is None:
        return design(space, configs, entry["seed"])
    ((name, values),) = entry["where"].items()
    matching: list[Configuration] = []
    n = 4 * configs
    while len(matching) < configs:
        points = design(space, n, entry["seed"])
        matching = [c for c in points if str(c.get(name)) in values][:configs]
        if len(points) < n:  # the design ran out (a tiny space)
            break
        n *= 2
    return matching


def _recording(outcome: Outcome, seed: int) -> Recording:
    spec, result = outcome.spec, outcome.result
    base = {
        "id": spec.trial_id,
        "config": plain_config(spec.config),
        "train_seed": config_seed(spec.config, seed),
    }
    if result is None:
        seconds = outcome.end - outcome.start
        return Recording(**base, error=outcome.error or "crashed", crash_seconds=seconds)
    return Recording(
        **base,
        curve=result.curve,
        epoch_seconds=result.epoch_seconds or (result.seconds / result.epochs,) * result.epochs,
        val=result.val,
        test=result.test,
    )


def collect(
    task: Task,
    configs: dict[int, Configuration],
    seed: int,
    done: list[Recording],
    executor: Executor,
    save: Callable[[list[Recording]], None],
    progress: bool = True,
) -> list[Recording]:
    """Train every configuration of ``configs`` (by id) that has no recording in ``done`` to
    ``task.max_epochs``, ``executor.slots`` at once; call ``save`` with all recordings after
    each one finishes. Returns all recordings, sorted by id."""
    recordings = {r.id: r for r in done}
    todo = [i for i in sorted(configs) if i not in recordings]
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), disable=not progress,
               unit="config", desc=f"collect {task.name}", dynamic_ncols=True)  # fmt: skip
    pending = 0
    with bar:
        while todo or pending:
            while todo and pending < executor.slots:
                index = todo.pop(0)
                executor.submit(TrialSpec(index, configs[index], task.max_epochs), seed)
                pending += 1
            for outcome in executor.wait():
                pending -= 1
                recordings[outcome.spec.trial_id] = _recording(outcome, seed)
                save(sorted(recordings.values(), key=lambda r: r.id))
                bar.update()
    return sorted(recordings.values(), key=lambda r: r.id)


REPLICA_BEST, REPLICA_RANDOM = 30, 30  # replicated: the best by validation, and some others


def replica_ids(meta: dict[str, Any], recordings: list[Recording]) -> list[int]:
    """The recorded ids to replicate, chosen once and kept in ``meta``: the ``REPLICA_BEST``
    best ok configurations by final validation objective, then ``REPLICA_RANDOM`` drawn at
    random (seeded by the collection's seed) from the other ok ones."""
    if "replica_ids" not in meta:
        direction = Direction.of(meta["maximize"])
        ok = direction.ranked([r for r in recordings if r.ok], key=lambda r: r.curve[-1])
        best = sorted(r.id for r in ok[:REPLICA_BEST])
        rest = sorted(r.id for r in ok[REPLICA_BEST:])
        rng = np.random.default_rng(meta["seed"])
        drawn = rng.choice(rest, size=min(REPLICA_RANDOM, len(rest)), replace=False)
        meta["replica_ids"] = {"best": best, "random": sorted(int(i) for i in drawn)}
    chosen = meta["replica_ids"]
    return [*chosen["best"], *chosen["random"]]


def collect_replicas(
    task: Task,
    recordings: list[Recording],
    ids: list[int],
    seed: int,
    count: int,
    done: list[Recording],
    executor: Executor,
    save: Callable[[list[Recording]], None],
    progress: bool = True,
) -> list[Recording]:
    """Train each configuration of ``ids`` ``count`` more times, run seeds ``seed + 1`` ..
    ``seed + count`` (training seeds derived as for every trial), skipping the trainings in
    ``done``; ``save`` all replicas after each. Returns them, sorted by (id, training seed)."""
    by_id = {r.id: r for r in recordings}
    space = task.space
    wanted = []
    for i in ids:
        config = Configuration(space, values=by_id[i].config)
        wanted += [(i, config, seed + k) for k in range(1, count + 1)]
    have = {(r.id, r.train_seed) for r in done}
    todo = [(i, c, s) for i, c, s in wanted if (i, config_seed(c, s)) not in have]
    replicas = list(done)
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(todo), disable=not progress,
               unit="training", desc=f"replicate {task.name}", dynamic_ncols=True)  # fmt: skip
    running: dict[int, tuple[int, int]] = {}
    keys = itertools.count()  # the executor's trial ids; the recorded id is the replica's own
    with bar:
        while todo or running:
            while todo and len(running) < executor.slots:
                i, config, run_seed = todo.pop(0)
                key = next(keys)
                running[key] = (i, run_seed)
                executor.submit(TrialSpec(key, config, task.max_epochs), run_seed)
            for outcome in executor.wait():
                i, run_seed = running.pop(outcome.spec.trial_id)
                spec = TrialSpec(i, outcome.spec.config, outcome.spec.epochs)
                recorded = _recording(replace(outcome, spec=spec), run_seed)
                replicas.append(recorded)
                save(sorted(replicas, key=lambda r: (r.id, r.train_seed)))
                bar.update()
    return sorted(replicas, key=lambda r: (r.id, r.train_seed))


def seed_noise(
    meta: dict[str, Any], recordings: list[Recording], replicas: list[Recording]
) -> dict[str, dict[str, float]]:
    """The seed-to-seed standard deviation of the final validation objective and of the test
    objective: the root mean of each replicated configuration's variance over its trainings
    (ddof 1), over every replicated configuration and over the best ones alone; with how many
    configurations each rests on."""
    metric = meta["metric"]
    by_id: dict[int, list[Recording]] = {}
    for r in [*recordings, *replicas]:
        if r.ok:
            by_id.setdefault(r.id, []).append(r)
    chosen = meta.get("replica_ids") or {"best": [], "random": []}
    out = {}
    for name, ids in (("all", [*chosen["best"], *chosen["random"]]), ("best", chosen["best"])):
        groups = [by_id[i] for i in ids if len(by_id.get(i, ())) > 1]
        if not groups:
            continue
        val = [np.var([r.curve[-1] for r in g], ddof=1) for g in groups]
        test = [np.var([(r.test or {}).get(metric, np.nan) for r in g], ddof=1) for g in groups]
        out[name] = {
            "configurations": len(groups),
            "val_std": float(np.sqrt(np.mean(val))),
            "test_std": float(np.sqrt(np.nanmean(test))),
        }
    return out


def card(meta: dict[str, Any], recordings: list[Recording], data: str) -> str:
    """The data card of a collection: identity, data, command, cost, machine, the ``notes``
    of ``meta`` (a list of strings, if any), summary."""
    ok = [r for r in recordings if r.ok]
    seconds = sum(r.seconds for r in ok)
    metric = meta["metric"]
    direction = Direction.of(meta["maximize"])
    host = meta.get("machine", {})
    lines = [
        f"# Recorded learning curves: {meta['task']}",
        "",
        f"configurations: {len(recordings)}",
        f"epochs: {meta['epochs']}",
        "",
        f"- Space: `spaces/{meta['task']}.yaml`, hash `{meta['space_hash']}` (stored in `{META}`).",
        *_design_lines(meta, recordings),
        f"- Data and split: {data}",
        f"- Fidelity: epochs 1..{meta['epochs']}; `curve_e` is validation {metric} after epoch e, "
        "`time_e` the seconds of epoch e (training + validation), one torch thread.",
        f"- Recorded: {len(ok)} ok, {len(recordings) - len(ok)} crashed (non-finite loss or an "
        "exception; a crashed configuration crashes at every fidelity on replay).",
        f"- Compute: {seconds / 3600:.2f} hours of evaluation time on one thread "
        f"(sum of per-epoch seconds, ok configurations).",
        f"- Machine: {host.get('processor', '?')}, {host.get('cpus', '?')} CPUs, "
        f"{host.get('platform', '?')}.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()) + ".",
        "",
        "Commands (run again to resume; a larger `--configs` extends the collection):",
        "",
        *[f"    {c['command']}    # {c['started']}" for c in meta["commands"]],
    ]
    noise = meta.get("seed_noise") or {}
    if noise:
        lines += ["", "## Seed noise", ""]
        lines += [
            f"- {'The ' + str(REPLICA_BEST) + ' best' if name == 'best' else 'All'} replicated "
            f"configurations ({n['configurations']}, each trained {meta['replicas'] + 1} times; "
            f"`{REPLICAS}`): seed-to-seed standard deviation of the final validation {metric} "
            f"{n['val_std']:.4f}, of the test {metric} {n['test_std']:.4f}."
            for name, n in noise.items()
        ]
        lines.append(
            f"- Chosen once: the {REPLICA_BEST} best configurations by final validation and "
            f"{REPLICA_RANDOM} drawn at random from the rest; a tabular replay answers a "
            "replicated configuration with the training its run's seed picks."
        )
    if meta.get("notes"):  # the collection's history, written into collection.json by hand
        lines += ["", "## Notes", "", *[f"- {note}" for note in meta["notes"]]]
    if ok:
        finals = [r.curve[-1] for r in ok]
        best = direction.best(ok, key=lambda r: r.curve[-1])
        epoch_times = sorted(s for r in ok for s in r.epoch_seconds)
        lines += [
            "",
            "## Summary",
            "",
            f"- Final validation {metric}: median {statistics.median(finals):.4f}, "
            f"best {best.curve[-1]:.4f} (configuration {best.id}, test "
            f"{(best.test or {}).get(metric, float('nan')):.4f}).",
            f"- Seconds per epoch: median {statistics.median(epoch_times):.3f}, "
            f"mean {statistics.fmean(epoch_times):.3f}, max {epoch_times[-1]:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def _design_lines(meta: dict[str, Any], recordings: list[Recording]) -> list[str]:
    """The card's account of the designs: which ids come from which, and how to read them."""
    seeded = (
        "each trained once, training seed derived from the configuration and the seed "
        "(`mfnas.spaces.config_seed`)."
    )
    designs = _designs(meta, recordings)
    if len(designs) == 1:
        return [
            f"- Design: the first {len(recordings)} points of SMAC's scrambled Sobol design, "
            f"seed {meta['seed']}; {seeded}"
        ]
    lines = [f"- Designs (SMAC's scrambled Sobol design, seed {meta['seed']}; {seeded}):"]
    bounds = [d["first_id"] for d in designs[1:]] + [None]
    for d, end in zip(designs, bounds, strict=True):
        ids = [r.id for r in recordings if r.id >= d["first_id"] and (end is None or r.id < end)]
        span = f"ids {min(ids)}-{max(ids)} ({len(ids)})" if ids else "none yet"
        if d.get("where") is None:
            rule = f"the first points over the space of hash `{d['space_hash']}`"
        else:
            ((name, values),) = d["where"].items()
            rule = (
                f"the first points over the space of hash `{d['space_hash']}` whose {name} is "
                f"{', '.join(values)}"
            )
        lines.append(f"  - {span}: {rule}.")
    lines.append(
        "  - Reading the union: each design is space-filling over its own part of the space, "
        "so the union is not a uniform sample of the grown space (the first design holds none "
        "of the values the later ones add); compare designs within themselves, and read a "
        "tabular replay's answer for a configuration from its nearest recorded neighbour."
    )
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m mfnas.collect",
        description="Train space-filling configurations of a task to full fidelity and record "
        "their learning curves: the table that --mode tabular replays and the surrogate is "
        "fitted on.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", required=True, help=f"task to record: {', '.join(TASKS)}")
    parser.add_argument(
        "--configs",
        type=positive_int,
        required=True,
        metavar="N",
        help="how many design points to have recorded (extends, never shrinks)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the design and the training seeds (default: 0)"
    )
    parser.add_argument(
        "--where",
        metavar="NAME=VALUES",
        help="grow the collection: record --configs more configurations of the task's current "
        "space whose NAME is one of VALUES (comma-separated), e.g. model=multdae,dlae",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="R",
        help=f"then train {REPLICA_BEST} of the best and {REPLICA_RANDOM} other recorded "
        "configurations R more times each with other seeds (replicas.csv.gz: the seed noise)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: benchmarks/<task>)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="configurations trained at once (N > 1: a local Dask cluster)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("auto", "cpu", "cuda"),
        help="torch device (default: cpu, so recorded times are CPU times)",
    )
    parser.add_argument("--data-dir", help="folder with the task's data (see mfnas.cli.bench)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser  # fmt: skip


@contextmanager
def _executor(task: Task, workers: int):
    if workers == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield SerialExecutor(task)
        finally:
            torch.set_num_threads(threads)
        return
    from mfnas.execution.dask_executor import DaskExecutor, dask_client

    with dask_client(workers, None) as (client, slots):
        yield DaskExecutor(client, task, slots)


def main(argv: list[str] | None = None) -> int:
    """Collect; returns the exit status (2 for bad input, 130 when interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.task not in TASKS:
        parser.error(f"unknown task {args.task!r}; choose from {', '.join(TASKS)}")
    command = shlex.join(
        ["python", "-m", "mfnas.collect", *(sys.argv[1:] if argv is None else argv)]
    )
    out = args.out or Path("benchmarks") / args.task
    if args.replicas < 0:
        parser.error(f"--replicas must be 0 or more, got {args.replicas}")
    try:
        task = make_task(args.task, device=args.device, data_dir=args.data_dir)
        where = parse_where(args.where)
        meta, done = open_collection(out, task, args.seed, command, where)
        if args.replicas and meta.get("replicas", args.replicas) != args.replicas:
            raise CollectError(
                f"{out} holds {meta['replicas']} replicas per configuration, not {args.replicas}"
            )
        first = [r for r in done if r.id < _closed(meta)]
        configs = planned(
            meta, task, args.configs if where else max(args.configs, len(first)), where
        )
        data = task.data_card()
        kept = (out / REFERENCES).exists()
        references = {} if kept else task.references()  # what replays show, computed once
    except (CollectError, TableError, ValueError, OSError, DataError) as exc:
        parser.error(str(exc))
    meta["versions"], meta["machine"] = versions(), machine()
    out.mkdir(parents=True, exist_ok=True)
    (out / META).write_text(json.dumps(meta, indent=2) + "\n")
    if not kept:
        write_references(out, references)
    if done:
        (out / CARD).write_text(card(meta, done, data))  # this command in its history now

    def save(recordings: list[Recording]) -> None:
        write_table(out / TABLE, recordings, task.max_epochs)
        (out / CARD).write_text(card(meta, recordings, data))

    try:
        with interrupts.stop_on_signals(), _executor(task, args.workers) as executor:
            recordings = collect(task, configs, args.seed, done, executor, save, not args.quiet)
            if args.replicas:
                _replicate(task, meta, recordings, args, out, data, executor)
    except KeyboardInterrupt:
        print(f"interrupted; {out / TABLE} keeps every finished configuration", file=sys.stderr)
        return 130
    except (DataError, CollectError) as exc:
        parser.error(str(exc))
    print(f"{len(recordings)} configurations recorded in {out}")
    return 0


def _replicate(
    task: Task,
    meta: dict[str, Any],
    recordings: list[Recording],
    args: argparse.Namespace,
    out: Path,
    data: str,
    executor: Executor,
) -> None:
    """Record the replicas ``--replicas`` asks for, then the seed noise in meta and card."""
    meta["replicas"] = args.replicas
    ids = replica_ids(meta, recordings)
    (out / META).write_text(json.dumps(meta, indent=2) + "\n")  # the choice is kept at once
    path = out / REPLICAS
    done = read_table(path)[0] if path.exists() else []

    def save(replicas: list[Recording]) -> None:
        write_table(path, replicas, task.max_epochs)
        meta["seed_noise"] = seed_noise(meta, recordings, replicas)
        (out / META).write_text(json.dumps(meta, indent=2) + "\n")
        (out / CARD).write_text(card(meta, recordings, data))

    replicas = collect_replicas(
        task, recordings, ids, args.seed, args.replicas, done, executor, save, not args.quiet
    )
    save(replicas)


def cli() -> None:
    raise SystemExit(main())
