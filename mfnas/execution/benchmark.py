"""Running a benchmark: every (strategy, seed) study of a ``RunSpec`` into one output folder,
then its leaderboard, plots and report; or several specs side by side (``run_suite``).

The output folder holds ``run.json`` (the spec, the execution options, the provenance, the
start and end; written when the run starts and again when it ends), ``trials.sqlite`` (every
evaluation, committed as it finishes, and the metadata the analysis reads), while a live study
with continuation runs ``checkpoints/<strategy>-seed<seed>/`` (emptied when it ends), and the
published outputs. ``run(..., resume=True)`` continues an interrupted run from its store.
The (strategy, seed) studies run one after another, each with every worker.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from ConfigSpace import ConfigurationSpace
from tqdm import tqdm

import mfnas
from mfnas.data.movielens import DataError
from mfnas.execution.executors import Executor, SerialExecutor
from mfnas.execution.folder_lock import FolderInUse, folder_lock
from mfnas.execution.runner import ResumeError, run_study
from mfnas.execution.spec import MAX_BUDGET, ExecutionOptions, RunSpec, SpecError
from mfnas.provenance import git_commit, machine, now, versions
from mfnas.replay.base import ReplayTask
from mfnas.replay.modes import MODES, Setup
from mfnas.replay.table import META, TableError
from mfnas.replay.tabular import TabularTask
from mfnas.spaces import load_space_file
from mfnas.store import Store, StoreError, TrialRecord
from mfnas.strategies import STRATEGIES
from mfnas.tasks import Task, make_task

RUN_JSON, SUITE_JSON, CHECKPOINTS = "run.json", "suite.json", "checkpoints"
OUTPUTS = (
    "trials.sqlite", "trials.sqlite-wal", "trials.sqlite-shm", RUN_JSON, "leaderboard.md",
    "leaderboard.csv", "report.html", "anytime.png", "test_scores.png", "ranks.png",
    "importance.csv", "importance.png",
)  # fmt: skip


class RunError(ValueError):
    """The run cannot start or go on: bad input, no usable data, a cluster that cannot be
    reached, a resume that diverges. The message is one line; nothing recorded is lost."""


def holds_run(out: Path) -> bool:
    """True when ``out`` holds a run already (a store or a run.json)."""
    return (out / "trials.sqlite").exists() or (out / RUN_JSON).exists()


def stored_spec(out: Path) -> tuple[RunSpec, dict[str, Any]]:
    """The spec of the run in ``out`` and its whole run.json. Raises RunError when there is
    none to read."""
    try:
        info = json.loads((out / RUN_JSON).read_text())
        return RunSpec.from_json(info.get("spec") or info["arguments"]), info
    except SpecError as exc:  # readable, but not runnable here (a peer not installed, say)
        raise RunError(f"{out}: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise RunError(f"{out} holds no run to resume (no readable {RUN_JSON})") from None


def _setup(spec: RunSpec, options: ExecutionOptions, meta: dict[str, Any]) -> Setup:
    """The run's task and what goes with it, in the spec's mode. A live task searches a
    resumed run's stored space, else ``spec.space``'s, else its own."""

    def live() -> Task:
        if "space" in meta:  # a resumed run keeps its space
            space = ConfigurationSpace.from_serialized_dict(meta["space"])
        else:
            space = load_space_file(spec.space) if spec.space else None
        return make_task(
            spec.task,
            space=space,
            max_epochs=spec.max_epochs,
            device=options.device,
            data_dir=options.data_dir,
        )

    try:
        setup = MODES[spec.mode].setup(
            spec.task, spec.replay_from, spec.max_epochs, spec.wants_prior, live
        )
        setup.task.space  # noqa: B018 - load the space now so a broken one fails before any work
    except (ValueError, OSError, DataError) as exc:
        raise RunError(str(exc)) from None
    return setup


@contextmanager
def _executor(spec: RunSpec, options: ExecutionOptions, task: Task) -> Iterator[Executor]:
    """Serial in this process by default; on Dask for more workers, a scheduler or a trial
    timeout; simulated workers in a replay mode."""
    if MODES[spec.mode].simulated:
        from mfnas.execution.clock import SimulatedExecutor

        if options.scheduler is not None or options.trial_timeout is not None:
            raise RunError("--scheduler and --trial-timeout are for live runs, not replays")
        yield SimulatedExecutor(task, options.workers or 1)
        return
    dask = options.scheduler is not None or options.trial_timeout is not None
    if not dask and (options.workers or 1) == 1:
        if options.threads is not None:
            import torch  # only when asked: toy runs need no torch

            torch.set_num_threads(options.threads)
        yield SerialExecutor(task)
        return
    from mfnas.execution.dask_executor import DaskExecutor, dask_client  # Dask only when used

    with ExitStack() as stack:
        try:
            client, slots = stack.enter_context(dask_client(options.workers, options.scheduler))
        except OSError as exc:
            where = f"the Dask scheduler at {options.scheduler}" if options.scheduler else "Dask"
            raise RunError(f"cannot reach {where}: {exc}") from None
        yield DaskExecutor(client, task, slots, options.trial_timeout)


def _new_run_info(
    spec: RunSpec, options: ExecutionOptions, command: str, setup: Setup, budget_epochs: int
) -> dict[str, Any]:
    """What run.json holds of a new run: its spec and options, what it replays, its budget in
    epochs, versions, git commit, hash seed and machine, its start."""
    return {
        "command": command,
        "spec": spec.to_json(),
        "options": options.to_json(),
        "replay": setup.replay,
        "budget_epochs": budget_epochs,
        "versions": {"mfnas": mfnas.__version__, **versions()},
        "git_commit": git_commit(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "machine": machine(),
        "started": now(),
    }


def _write_json(path: Path, value: Any) -> None:
    """Replace ``path`` with ``value`` as JSON atomically: a kill mid-write leaves the old file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(partial, path)


def _write_run_info(out: Path, info: dict[str, Any]) -> None:
    _write_json(out / RUN_JSON, info)


def run(
    spec: RunSpec,
    options: ExecutionOptions,
    out: Path,
    command: str,
    resume: bool = False,
    overwrite: bool = False,
) -> list[dict[str, Any]]:
    """Run (``resume``: continue) ``spec`` into ``out``; return the leaderboard rows.

    ``command`` is what the leaderboard names as the way to reproduce the run. A new run
    refuses a folder that holds one unless ``overwrite``, which deletes its files first. Raises
    RunError (one line) before touching the folder for bad input, and when the run cannot go
    on; KeyboardInterrupt passes through with every finished evaluation committed.
    """
    meta = _check_folder(out, resume, overwrite)
    seen = json.dumps(meta, sort_keys=True)  # what the folder held, to compare under the lock
    if resume and spec != stored_spec(out)[0]:
        raise RunError(f"{out} holds a run of another spec than the one given; resume it alone")
    setup = _setup(spec, options, meta)
    task = setup.task
    try:  # before the folder is touched: no data means nothing changes
        references = None if meta else task.references()
    except (ValueError, OSError, DataError) as exc:
        raise RunError(str(exc)) from None
    if not resume:  # run.json keeps the fidelity it ran at: --max-epochs 27 resumes a default run
        spec = replace(spec, max_epochs=task.max_epochs)
    rate = None if meta or spec.budget_seconds is None else _seconds_per_epoch(spec, setup)
    with ExitStack() as stack:  # the executor first: a cluster that cannot start changes nothing
        executor = stack.enter_context(_executor(spec, options, task))
        budget_epochs = meta.get("budget_epochs")  # a resumed run plans as it did
        if budget_epochs is None:
            budget_epochs = _budget_epochs(spec, task, rate, executor.slots)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"--out {out}: cannot make the folder: {exc.strerror}") from None
        stack.enter_context(_locked(out))
        again = json.dumps(_check_folder(out, resume, overwrite), sort_keys=True)
        if again != seen:  # nobody can change it from here on
            raise RunError(f"{out} changed while this run started; try again")
        try:
            return _record_and_publish(
                spec, options, out, command, resume, overwrite, setup, references, executor,
                budget_epochs,
            )  # fmt: skip
        except (OSError, sqlite3.OperationalError) as exc:  # a full disk, a read-only folder
            raise _write_error(out, exc) from None
        except StoreError as exc:  # a file that appeared in the folder meanwhile
            raise RunError(str(exc)) from None


def _record_and_publish(
    spec: RunSpec,
    options: ExecutionOptions,
    out: Path,
    command: str,
    resume: bool,
    overwrite: bool,
    setup: Setup,
    references: dict[str, Any] | None,
    executor: Executor,
    budget_epochs: int,
) -> list[dict[str, Any]]:
    """The part of ``run`` that writes the locked folder: run.json, the store and its
    metadata, every study, the published outputs, then run.json marked finished."""
    task = setup.task
    if overwrite:  # a suite that was there goes too: a later --resume must not find it
        for name in (*OUTPUTS, SUITE_JSON):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    if resume:
        info = stored_spec(out)[1]
        info.pop("finished", None)
        info.setdefault("resumed", []).append({"command": command, "at": now()})
    else:
        info = _new_run_info(spec, options, command, setup, budget_epochs)
    _write_run_info(out, info)
    with Store(out / "trials.sqlite") as store:
        if references is not None:  # a new run (a resumed one has its metadata)
            store.set_meta(
                task=task.name,
                mode=spec.mode,
                replay=setup.replay,
                metric=task.metric,
                maximize=task.maximize,
                min_epochs=task.min_epochs,
                max_epochs=task.max_epochs,
                budget_epochs=budget_epochs,
                budget_seconds=spec.budget_seconds,
                continuation=spec.continuation,
                command=command,
                space=task.space.to_serialized_dict(),
                references=references,
                seed_noise=recorded_seed_noise(spec),
            )
        try:
            _run_studies(spec, options, setup, budget_epochs, store, executor, resume, out)
        except (ResumeError, DataError) as exc:
            raise RunError(str(exc)) from None
        from mfnas.analysis.report import publish  # the analysis reads the store only

        rows = publish(store, out)
    info["finished"] = now()  # only once every output is written
    _write_run_info(out, info)
    return rows


def _seconds_per_epoch(spec: RunSpec, setup: Setup) -> float:
    """The task's recorded mean cost of an epoch, what a budget in seconds is planned with.
    Raises RunError when a live task has no recorded curves to read it from."""
    if isinstance(setup.task, ReplayTask):
        return setup.task.seconds_per_epoch()
    try:
        folder = MODES[spec.mode].prior_folder(spec.task, spec.replay_from)
        return TabularTask.from_folder(folder).seconds_per_epoch()
    except TableError as exc:
        raise RunError(
            f"--budget-seconds needs the cost of an epoch of {spec.task} to plan with, "
            f"from its recorded curves ({exc}); or give --budget"
        ) from None


def _budget_epochs(spec: RunSpec, task: Task, rate: float | None, slots: int) -> int:
    """The run's budget in epochs: ``budget`` full trainings, or, for a budget in seconds, the
    epochs those seconds afford on ``slots`` workers at ``rate`` seconds per epoch (what
    strategies plan with)."""
    if spec.budget_seconds is None:
        assert spec.budget is not None
        return spec.budget * task.max_epochs
    assert rate is not None
    affordable = math.floor(slots * spec.budget_seconds / max(rate, 1e-9))
    return int(min(max(affordable, 1), MAX_BUDGET * task.max_epochs))


def _write_error(out: Path, exc: OSError | sqlite3.OperationalError) -> RunError:
    """The one line for a run stopped by a failed write (or a lost connection, an OSError
    without an errno: Dask's), with the command that resumes it."""
    again = f"continue with: python -m mfnas.bench --resume --out {out}"
    if isinstance(exc, OSError) and exc.errno is None:
        return RunError(f"the run stopped: {type(exc).__name__}: {exc}; {again}")
    problem = exc.strerror if isinstance(exc, OSError) else str(exc)
    return RunError(
        f"cannot write {out}: {problem}; free space or fix its permissions, then {again}"
    )


def _check_folder(out: Path, resume: bool, overwrite: bool) -> dict[str, Any]:
    """Check that ``out`` suits the run (a run to resume, or no run unless ``overwrite``);
    return a resumed run's stored metadata (empty for a new run). Raises RunError."""
    if not resume:
        if holds_run(out) and not overwrite:
            raise RunError(
                f"{out} already holds a run (trials.sqlite); choose another --out, continue it "
                "with --resume or replace it with --overwrite"
            )
        return {}
    stored_spec(out)
    if not (out / "trials.sqlite").exists():
        return {}
    try:
        with Store(out / "trials.sqlite", readonly=True) as store:  # nothing written yet
            return store.meta()
    except StoreError as exc:
        raise RunError(
            f"{exc}; it cannot be resumed: move it away or choose another --out"
        ) from None


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """The run's exclusive hold on ``out`` (``folder_lock``), its refusal as a RunError."""
    try:
        with folder_lock(out):
            yield
    except FolderInUse as exc:
        raise RunError(str(exc)) from None


def _run_studies(
    spec: RunSpec,
    options: ExecutionOptions,
    setup: Setup,
    budget_epochs: int,
    store: Store,
    executor: Executor,
    resume: bool,
    out: Path,
) -> None:
    """Every (strategy, seed) study, one after another, each with every worker; a live one
    keeps its checkpoints in ``out/checkpoints/<strategy>-seed<seed>/``. The progress bar
    counts epochs spent, or with a budget in seconds each study's clock. With
    ``options.tensorboard``, each trial is written for TensorBoard as it is recorded."""
    seconds = spec.budget_seconds
    per_study = budget_epochs if seconds is None else seconds
    log = None
    if options.tensorboard is not None:
        from mfnas.analysis.tensorboard import TrialLog

        log = TrialLog(Path(options.tensorboard), setup.task.metric)
    studies = {}  # (strategy, seed) -> what the bar shows of it
    for record in store.records():  # of a resumed run
        key, spent = (record.strategy, record.seed), record.charged_epochs
        studies[key] = studies.get(key, 0) + spent if seconds is None else min(record.end, seconds)
    with tqdm(
        total=per_study * len(spec.strategies) * spec.seeds,
        initial=sum(studies.values()),
        unit="epoch" if seconds is None else "s",
        disable=options.quiet,
        dynamic_ncols=True,
    ) as bar:
        for strategy in spec.strategies:
            for seed in range(spec.seeds):
                bar.set_description(f"{strategy} seed {seed}")
                shown = studies.get((strategy, seed), 0)

                def advance(record: TrialRecord) -> None:
                    nonlocal shown
                    now = shown + record.charged_epochs if seconds is None else record.end
                    bar.update(max(0, min(now, per_study) - shown))
                    shown = max(shown, min(now, per_study))
                    bar.set_postfix(trial=record.trial_id, status=record.status.value)
                    if log is not None:
                        log.write(record)

                run_study(
                    setup.task,
                    strategy,
                    seed,
                    budget_epochs,
                    store,
                    advance,
                    executor=executor,
                    resume=resume,
                    prior=setup.prior if STRATEGIES[strategy].uses_prior else (),
                    continuation=spec.continuation,
                    checkpoints=out / CHECKPOINTS / f"{strategy}-seed{seed}",
                    checkpoint_bytes=options.checkpoint_bytes,
                    budget_seconds=seconds,
                )
                bar.update(per_study - shown)  # the budget left unspent
    with suppress(OSError):  # every study ended: the checkpoint folder is empty
        (out / CHECKPOINTS).rmdir()


def recorded_seed_noise(spec: RunSpec) -> dict[str, Any] | None:
    """The seed noise that the task's recorded benchmark measured (``collection.json``'s
    ``seed_noise``, from its replicas), or None when it has none."""
    try:
        folder = MODES[spec.mode].prior_folder(spec.task, spec.replay_from)
        return json.loads((folder / META).read_text()).get("seed_noise") or None
    except (TableError, OSError, ValueError):
        return None


def suite_specs(
    spec: RunSpec, tasks: list[str], budgets: list[int | None], modes: list[str] | None = None
) -> dict[str, RunSpec]:
    """One spec per (task, mode, budget), named ``<task>[-<mode>][-budget<N>]`` (the mode
    when several modes are compared, the budget when several budgets are), each ``spec`` with
    that task, mode and budget (``spec``'s own mode when ``modes`` is None)."""
    modes = modes or [spec.mode]
    try:
        return {
            task
            + (f"-{mode}" if len(modes) > 1 else "")
            + (f"-budget{budget}" if len(budgets) > 1 else ""): replace(
                spec, task=task, budget=budget, mode=mode
            )
            for task in tasks
            for mode in modes
            for budget in budgets
        }
    except SpecError as exc:
        raise RunError(str(exc)) from None


def stored_suite(out: Path) -> dict[str, RunSpec]:
    """The specs of the suite in ``out`` (from ``suite.json``, else each run's run.json, as
    suites written before suite.json kept specs). Raises RunError when it cannot be read."""
    try:
        suite = json.loads((out / SUITE_JSON).read_text())
        specs = suite.get("specs") or {name: None for name in suite["runs"]}
        return {  # a run that began keeps its own spec (its fidelity resolved), else the suite's
            name: stored_spec(out / name)[0]
            if (out / name / RUN_JSON).exists() or not values
            else RunSpec.from_json(values)
            for name, values in specs.items()
        }
    except SpecError as exc:
        raise RunError(f"{out}: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise RunError(f"{out} holds no suite to resume (no readable {SUITE_JSON})") from None


def run_suite(
    specs: dict[str, RunSpec],
    options: ExecutionOptions,
    out: Path,
    command: str,
    resume: bool = False,
    overwrite: bool = False,
) -> list[dict[str, Any]]:
    """Run (or resume) each named spec into ``<out>/<name>/``, then set them side by side and
    rank the strategies across all of them (``mfnas.analysis.suite``); return its rows."""
    from mfnas.analysis.suite import write_suite

    _check_suite_folder(out, specs, resume, overwrite)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"--out {out}: cannot make the folder: {exc.strerror}") from None
    with _locked(out):  # one suite at a time writes suite.json; each run locks its own folder
        _check_suite_folder(out, specs, resume, overwrite)  # again, under the lock
        try:
            if overwrite:  # the suite's own files go too, not only its runs'
                for name in (SUITE_JSON, "leaderboard.md", "leaderboard.csv"):
                    (out / name).unlink(missing_ok=True)
            suite = {"runs": list(specs), "specs": {n: s.to_json() for n, s in specs.items()}}
            _write_json(out / SUITE_JSON, suite)  # for --resume at once
            for name, spec in specs.items():
                folder = out / name
                again = resume and holds_run(folder)
                run(
                    spec, options, folder, spec.command(str(folder)), again, overwrite and not again
                )
            _write_json(out / SUITE_JSON, {**suite, "command": command})
            return write_suite(out, list(specs), command)
        except OSError as exc:
            raise _write_error(out, exc) from None


def _check_suite_folder(
    out: Path, specs: dict[str, RunSpec], resume: bool, overwrite: bool
) -> None:
    """Refuse a new suite (without ``overwrite``) in a folder that holds a run or a suite, or
    whose run folders hold runs; nothing is written before this passes."""
    if resume or overwrite:
        return
    taken = [out] if holds_run(out) or (out / SUITE_JSON).exists() else []
    taken += [out / name for name in specs if holds_run(out / name)]
    if taken:
        raise RunError(
            f"{taken[0]} already holds a run; choose another --out, continue it with --resume "
            "or replace it with --overwrite"
        )
