"""``python -m mfnas.bench``: compare search strategies on one task under the same epoch budget.

Every strategy runs once per seed (0..K-1) and spends ``--budget`` full trainings' worth of
epochs (the sum over all its evaluations, final trainings included). ``run.json`` is written
when the run starts and again when it ends; every evaluation is committed to ``trials.sqlite``
as it finishes; at the end the leaderboard, report and plots are written into the output folder.
The (strategy, seed) studies run one after another, each with every worker (``--workers``,
``--scheduler``); ``--resume`` continues an interrupted run from its store.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from ConfigSpace import ConfigurationSpace
from tqdm import tqdm

import mfnas
from mfnas.analysis.report import publish
from mfnas.cli.common import OneLineParser, positive_int, versions
from mfnas.data.movielens import DataError
from mfnas.execution.clock import SimulatedExecutor
from mfnas.execution.executors import Executor, SerialExecutor
from mfnas.execution.runner import ResumeError, run_study
from mfnas.replay import (
    MODES,
    ReplayTask,
    TableError,
    load_prior,
    make_replay_task,
    replay_folder,
)
from mfnas.spaces import load_space_file
from mfnas.store import Store, TrialRecord
from mfnas.strategies import STRATEGIES
from mfnas.strategies.base import PriorCurve
from mfnas.tasks import TASKS, Task, make_task
from mfnas.tasks.device import DEVICES

EXAMPLES = """examples:
  python -m mfnas.bench --task recsys                      # random vs smac-hb, 3 seeds
  python -m mfnas.bench --task toy --strategies all        # every registered strategy
  python -m mfnas.bench --task recsys --strategies random,evolution --budget 10 --seeds 2
  python -m mfnas.bench --task toy --out runs/toy-demo     # the analytic test task, seconds
  python -m mfnas.bench --task image --strategies all      # CNN search on 8x8 digits
  python -m mfnas.bench --task recsys --mode tabular --strategies all --seeds 10   # replay, minutes
  python -m mfnas.bench --task recsys --mode tabular --budget 5,10,20,50 --seeds 20
  python -m mfnas.bench --task recsys,image --strategies random,smac-hb   # ranks across tasks
  python -m mfnas.bench --task recsys --workers 4          # 4 evaluations at once (Dask)
  python -m mfnas.bench --task recsys --scheduler tcp://head:8786   # on a running cluster
  python -m mfnas.bench --resume --out runs/recsys-demo    # continue an interrupted run

faults: an evaluation that raises or returns NaN/inf is recorded crashed, its epochs spent, and
  the run goes on; one whose Dask worker dies is retried once, then recorded crashed

outputs (in --out): leaderboard.md, leaderboard.csv, report.html, anytime.png,
  test_scores.png, ranks.png, importance.csv (+ .png), trials.sqlite, run.json;
  python -m mfnas.report DIR rebuilds all but the last two from trials.sqlite
"""


RUN_ARGUMENTS = (
    "task",
    "strategies",
    "budget",
    "seeds",
    "max_epochs",
    "space",
    "mode",
    "replay_from",
)
#: Run arguments a run.json written before they existed lacks, as those runs had them.
RUN_DEFAULTS: dict[str, Any] = {"mode": "live", "replay_from": None}
DEFAULT_BUDGET, DEFAULT_SEEDS = 5, 3
#: The default comparison: random search against SMAC's model-based Hyperband. Every registered
#: strategy (``--strategies all``) on live recsys takes hours on 2 CPU cores; see the README.
DEFAULT_STRATEGIES = ("random", "smac-hb")
OUTPUTS = (
    "trials.sqlite", "trials.sqlite-wal", "trials.sqlite-shm", "run.json", "leaderboard.md",
    "leaderboard.csv", "report.html", "anytime.png", "test_scores.png", "ranks.png",
    "importance.csv", "importance.png",
)  # fmt: skip


def _positive_list(text: str) -> list[int]:
    return [positive_int(part.strip()) for part in text.split(",")]


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m mfnas.bench",
        description=(
            "Run several search strategies on one task, each with the same budget of training "
            "epochs, over several seeds, and write a leaderboard. The incumbent of each run is "
            "chosen on validation among full-fidelity evaluations; only its test score is read."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--task",
        help=f"task to search (required unless --resume): {', '.join(TASKS)}; several "
        "comma-separated run one after another into <out>/<task>/, and <out>/leaderboard.md "
        "ranks the strategies across every (task, seed)",
    )
    parser.add_argument(
        "--strategies",
        help=f"comma-separated strategies, or 'all' for every registered one "
        f"({','.join(STRATEGIES)}); default: {','.join(DEFAULT_STRATEGIES)}",
    )
    parser.add_argument(
        "--budget",
        type=_positive_list,
        help="budget per strategy and seed, in full trainings' worth of epochs: "
        f"N means N x max-epochs epochs summed over every evaluation (default: {DEFAULT_BUDGET}); "
        "several comma-separated (5,10,20) run one after another into <out>/<task>-budget<N>/ "
        "and <out>/leaderboard.md sets them side by side",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        help=f"number of seeds, run as 0..K-1 (default: {DEFAULT_SEEDS})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: a new runs/<task>-<time>/); one that holds a run already "
        "is refused unless --resume or --overwrite is given",
    )
    parser.add_argument(
        "--max-epochs",
        type=positive_int,
        help="full fidelity in epochs (default: the task's own, e.g. 27 for recsys)",
    )
    parser.add_argument(
        "--space",
        metavar="FILE",
        help="a ConfigSpace YAML file to search instead of the task's own space "
        "(spaces/<task>.yaml shows the format); it must use the task's hyperparameter names",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="live: train every evaluation (default); tabular: answer from the recorded "
        "learning curves (benchmarks/<task>/, python -m mfnas.collect), nearest recorded "
        "configuration for one not recorded; surrogate: predict them with the XGBoost surrogate "
        "fitted on those curves (surrogates/<task>/). Replays run on a simulated clock: "
        "recorded (or predicted) training seconds plus the strategy's measured decision time",
    )
    parser.add_argument(
        "--replay-from",
        metavar="DIR",
        help="the recorded benchmark (tabular) or fitted surrogate (surrogate) to replay "
        "(default: benchmarks/<task> or surrogates/<task>)",
    )
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="torch device (default: auto)"
    )
    parser.add_argument(
        "--data-dir",
        help="folder with MovieLens-100K's u.data (default: $MFNAS_DATA_DIR, the cache, "
        "then a download)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="evaluations run at once: N > 1 starts a local Dask cluster of N single-threaded "
        "worker processes; 1 (the default) evaluates in this process. With --scheduler: "
        "evaluations kept in flight (default: the cluster's worker threads at start). "
        "In a replay mode: N simulated workers",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch threads for evaluations in this process (default: torch's own, one per "
        "core). On a machine busy with other work, 1 keeps an epoch from waiting on a second "
        "thread (measured 5-30x slower on 2 shared cores); Dask workers always use 1. "
        "Results on CPU are reproducible for the same number of threads",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the evaluations on an existing Dask cluster (e.g. tcp://host:8786) instead",
    )
    parser.add_argument(
        "--trial-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="an evaluation running longer on its worker is cancelled, its worker restarted, "
        "and it is recorded crashed (default: no limit). Stopping one needs a worker process, so "
        "this runs evaluations on a local Dask cluster even with --workers 1",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out with its own arguments (task, strategies, "
        "budget, seeds, max-epochs, space; giving other values is an error): finished "
        "evaluations are kept, the others run; --workers, --threads, --scheduler, "
        "--trial-timeout, --device and --data-dir may change",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --out: delete its trials.sqlite, run.json and outputs first",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _versions() -> dict[str, str]:
    return {
        "mfnas": mfnas.__version__,
        **versions(("torch", "smac", "ConfigSpace", "xgboost", "numpy")),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The run arguments as given on the command line (None where left out)."""
    strategies = args.strategies
    if strategies is not None:
        strategies = [s.strip() for s in strategies.split(",") if s.strip()]
    return {
        "task": args.task,
        "strategies": strategies,
        "budget": args.budget[0] if args.budget else None,
        "seeds": args.seeds,
        "max_epochs": args.max_epochs,
        "space": args.space,
        "mode": args.mode,
        "replay_from": args.replay_from,
    }


def _all_strategies(task: str, mode: str | None, replay_from: str | None) -> list[str]:
    """Every registered strategy, less those needing a prior when ``task`` has no recorded
    benchmark to give them (said on stderr)."""
    names = list(STRATEGIES)
    try:
        replay_folder("tabular", task, replay_from if mode == "tabular" else None)
    except TableError:
        needy = [name for name in names if STRATEGIES[name].uses_prior]
        if needy:
            print(f"note: {', '.join(needy)} left out: they need recorded curves of {task} "
                  "(python -m mfnas.collect)", file=sys.stderr)  # fmt: skip
        return [name for name in names if name not in needy]
    return names


def _new_run(parser: argparse.ArgumentParser, given: dict[str, Any]) -> dict[str, Any]:
    """The run arguments of a new run: checked, defaults filled in."""
    task, strategies = given["task"], given["strategies"]
    if task is None:
        parser.error("the following arguments are required: --task")
    if task not in TASKS:
        parser.error(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    if strategies is None:
        strategies = list(DEFAULT_STRATEGIES)
    elif strategies == ["all"]:
        strategies = _all_strategies(task, given["mode"], given["replay_from"])
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        parser.error(
            f"unknown strategy {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(STRATEGIES)}"
        )
    mode = given["mode"] or "live"
    if mode == "live" and given["replay_from"] is not None:
        parser.error("--replay-from needs --mode tabular or --mode surrogate")
    if mode != "live" and given["space"] is not None:
        parser.error(f"--space is for live runs; --mode {mode} searches the recorded space")
    return {
        **given,
        "strategies": strategies,
        "budget": given["budget"] or DEFAULT_BUDGET,
        "seeds": given["seeds"] or DEFAULT_SEEDS,
        "mode": mode,
    }


def _stored_run(
    parser: argparse.ArgumentParser, out: Path, given: dict[str, Any]
) -> dict[str, Any]:
    """``out``'s run.json, after checking the run arguments given agree with its own."""
    try:
        info = json.loads((out / "run.json").read_text())
        arguments = {**RUN_DEFAULTS, **info["arguments"]}
        stored = {key: arguments[key] for key in RUN_ARGUMENTS}
    except (OSError, ValueError, KeyError):
        parser.error(f"{out} holds no run to resume (no readable run.json)")
    for key, value in given.items():
        if value is not None and value != stored[key]:
            parser.error(
                f"--resume continues {out} with its own arguments: --{key.replace('_', '-')} "
                f"{value} differs from its {stored[key]}"
            )
    return info


def _holds_run(out: Path) -> bool:
    return (out / "trials.sqlite").exists() or (out / "run.json").exists()


@contextmanager
def _executor(args: argparse.Namespace, task: Task) -> Iterator[Executor]:
    """Serial in this process by default; on Dask for --workers > 1, --scheduler or a timeout;
    simulated workers for a replay task."""
    if isinstance(task, ReplayTask):
        if args.scheduler is not None or args.trial_timeout is not None:
            raise ValueError("--scheduler and --trial-timeout are for live runs, not replays")
        yield SimulatedExecutor(task, args.workers or 1)
        return
    if args.scheduler is None and args.trial_timeout is None and (args.workers or 1) == 1:
        if args.threads is not None:
            import torch  # only when asked: replays and toy runs need no torch

            torch.set_num_threads(args.threads)
        yield SerialExecutor(task)
        return
    if args.threads is not None:
        raise ValueError("--threads is for evaluations in this process; Dask workers use 1 each")
    from mfnas.execution.dask_executor import (
        DaskExecutor,
        dask_client,
    )  # Dask is imported only when used

    with dask_client(args.workers, args.scheduler) as (client, slots):
        yield DaskExecutor(client, task, slots, args.trial_timeout)


def _new_run_info(
    command: str, run: dict[str, Any], args: argparse.Namespace, setup: _Setup, budget_epochs: int
) -> dict[str, Any]:
    """What run.json holds of a new run: its arguments, versions and machine, its start."""
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    return {
        "command": command,
        "arguments": {**options, **run},
        "task": setup.task.name,
        "mode": run["mode"],
        "replay": setup.replay,
        "strategies": run["strategies"],
        "seeds": list(range(run["seeds"])),
        "budget_epochs": budget_epochs,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "started": _now(),
    }


def _write_meta(store: Store, setup: _Setup, mode: str, budget_epochs: int, command: str) -> None:
    """The run metadata the leaderboard reads, written once per store."""
    task = setup.task
    store.set_meta(
        task=task.name,
        mode=mode,
        replay=setup.replay,
        metric=task.metric,
        maximize=task.maximize,
        min_epochs=task.min_epochs,
        max_epochs=task.max_epochs,
        budget_epochs=budget_epochs,
        command=command,
        space=task.space.to_serialized_dict(),
        references=setup.references,
    )


def _locate(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Path, dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """The output folder, the run arguments, and for a resumed run its run.json and metadata.

    Exits 2 for arguments that do not make a run, or a folder that does not suit ``args``.
    """
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    if args.resume:
        if args.out is None:
            parser.error("--resume needs --out, the folder of the run to continue")
        run_info = _stored_run(parser, args.out, _given(args))
        meta: dict[str, Any] = {}
        if (args.out / "trials.sqlite").exists():
            with Store(args.out / "trials.sqlite") as store:
                meta = store.meta()
        arguments = {**RUN_DEFAULTS, **run_info["arguments"]}
        return args.out, {key: arguments[key] for key in RUN_ARGUMENTS}, run_info, meta
    run = _new_run(parser, _given(args))
    started = datetime.now(timezone.utc)
    out = args.out or Path("runs") / f"{run['task']}-{started:%Y%m%d-%H%M%S}"
    if _holds_run(out) and not args.overwrite:
        parser.error(
            f"{out} already holds a run (trials.sqlite); choose another --out, continue it "
            "with --resume or replace it with --overwrite"
        )
    return out, run, None, {}


@dataclass(frozen=True)
class _Setup:
    """What a run works on: the task, its reference rows (None when the store holds them),
    the replay it reads (None live) and the prior given to strategies that use one."""

    task: Task
    references: dict[str, Any] | None
    replay: dict[str, Any] | None
    prior: tuple[PriorCurve, ...]


def _replay_setup(
    run: dict[str, Any], live: Task
) -> tuple[Task, dict[str, Any] | None, tuple[PriorCurve, ...]]:
    """The task a run evaluates, what its replay reads, and the prior for strategies that use
    one: the recorded benchmark's validation curves. When a tabular run has such a strategy,
    its table is split by id: the even half answers every strategy, the odd half is the
    prior, so no strategy is scored on the curves it was warm-started with."""
    mode, name = run["mode"], run["task"]
    wants_prior = any(STRATEGIES[s].uses_prior for s in run["strategies"])
    if mode == "live" and not wants_prior:
        return live, None, ()
    recorded = replay_folder("tabular", name, run["replay_from"] if mode == "tabular" else None)
    prior_ids = slice(1, None, 2) if mode == "tabular" else None
    prior = load_prior(recorded, prior_ids) if wants_prior else ()
    if mode == "live":
        return live, {"prior": f"{len(prior)} recorded curves from {recorded}"}, prior
    folder = recorded if mode == "tabular" else replay_folder(mode, name, run["replay_from"])
    answer_ids = slice(0, None, 2) if mode == "tabular" and wants_prior else None
    task = make_replay_task(mode, folder, live, answer_ids)
    replay = {"mode": mode, "source": str(folder)}
    if mode == "tabular":
        half = ", the even-id half; the odd half is the prior" if wants_prior else ""
        replay["answers"] = f"{len(task.recordings)} recorded configurations{half}"
        replay["test_worst"], replay["test_best"] = task.test_range()
    if wants_prior:
        fitted = ", the data the surrogate learned from: optimistic" if mode == "surrogate" else ""
        replay["prior"] = f"{len(prior)} recorded curves from {recorded}{fitted}"
    return task, replay, prior


def _build_task(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    run: dict[str, Any],
    meta: dict[str, Any],
) -> _Setup:
    """The run's task (over a resumed run's stored space, else ``--space``'s, else its own;
    a replay of the recorded benchmark in a replay mode) and what goes with it (``_Setup``).
    Exits 2 when it cannot be built."""
    try:
        if "space" in meta and run["mode"] == "live":  # a resumed run keeps its space
            space = ConfigurationSpace.from_serialized_dict(meta["space"])
        else:
            space = load_space_file(run["space"]) if run["space"] else None
        live = make_task(
            run["task"],
            space=space,
            max_epochs=run["max_epochs"],
            device=args.device,
            data_dir=args.data_dir,
        )
        task, replay, prior = _replay_setup(run, live)
        given_epochs = run["max_epochs"]
        if task is not live and given_epochs is not None and given_epochs != task.max_epochs:
            raise ValueError(
                f"--max-epochs {run['max_epochs']} differs from the {task.max_epochs} epochs "
                f"recorded in {replay['source']}; a replay keeps the recorded fidelity"
            )
        task.space  # noqa: B018 - load the space now so a broken one fails before any work
        return _Setup(task, None if meta else task.references(), replay, prior)
    except (ValueError, OSError, DataError) as exc:
        parser.error(str(exc))


def _suite(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> int:
    """Run (or resume) a run per task and budget into ``<out>/<task>[-budget<N>]/``, then set
    them side by side and rank the strategies across all of them (``mfnas.analysis.suite``)."""
    from mfnas.analysis.suite import SUITE, write_suite

    if args.resume:
        runs = {name: [] for name in json.loads((args.out / SUITE).read_text())["runs"]}
    else:
        tasks = [t.strip() for t in args.task.split(",") if t.strip()]
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            parser.error(f"unknown task {', '.join(unknown)}; choose from {', '.join(TASKS)}")
        budgets = args.budget or [None]
        runs = {
            task if len(budgets) == 1 else f"{task}-budget{budget}": ["--task", task]
            + ([] if budget is None else ["--budget", str(budget)])
            for task in tasks
            for budget in budgets
        }
    out = args.out or Path("runs") / f"suite-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    own = ("--task", "--out", "--budget")
    rest = [a for i, a in enumerate(argv) if a not in own and (i == 0 or argv[i - 1] not in own)]
    out.mkdir(parents=True, exist_ok=True)
    (out / SUITE).write_text(json.dumps({"runs": list(runs)}) + "\n")  # for --resume at once
    for name, own_args in runs.items():
        status = main([*own_args, "--out", str(out / name), *rest])
        if status:
            return status
    write_suite(out, list(runs), shlex.join(["python", "-m", "mfnas.bench", *argv]))
    if not args.quiet:
        print((out / "leaderboard.md").read_text())
    print(f"wrote {out}/leaderboard.md/.csv (ranks across {', '.join(runs)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (2 for bad input, 130 when interrupted)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if (
        (args.task and "," in args.task)
        or len(args.budget or ()) > 1
        or (args.resume and args.out is not None and (args.out / "suite.json").exists())
    ):
        return _suite(parser, args, argv)
    command = shlex.join(["python", "-m", "mfnas.bench", *argv])
    out, run, run_info, meta = _locate(parser, args)
    setup = _build_task(parser, args, run, meta)
    task = setup.task
    budget_epochs = run["budget"] * task.max_epochs
    with ExitStack() as stack:
        try:  # before the folder is touched: a cluster that cannot start changes nothing
            executor = stack.enter_context(_executor(args, task))
        except ValueError as exc:
            parser.error(str(exc))
        except OSError as exc:
            where = f"the Dask scheduler at {args.scheduler}" if args.scheduler else "Dask workers"
            parser.error(f"cannot reach {where}: {exc}")
        if args.overwrite:
            for name in OUTPUTS:
                (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        if run_info is None:
            run_info = _new_run_info(command, run, args, setup, budget_epochs)
        else:
            run_info.pop("finished", None)
            run_info.setdefault("resumed", []).append({"command": command, "at": _now()})
        (out / "run.json").write_text(json.dumps(run_info, indent=2) + "\n")
        store = stack.enter_context(Store(out / "trials.sqlite"))
        if setup.references is not None:
            _write_meta(store, setup, run["mode"], budget_epochs, command)
        try:
            _run_studies(args, run, setup, budget_epochs, store, executor)
        except (ResumeError, DataError) as exc:
            parser.error(str(exc))
        except KeyboardInterrupt:
            again = shlex.join(["python", "-m", "mfnas.bench", "--resume", "--out", str(out)])
            print(f"interrupted; continue with: {again}", file=sys.stderr)
            return 130
        run_info["finished"] = _now()
        (out / "run.json").write_text(json.dumps(run_info, indent=2) + "\n")
        rows = publish(store, out)
    if not args.quiet:
        print((out / "leaderboard.md").read_text())
    print(f"wrote {out}/: leaderboard.md/.csv, report.html, plots, trials.sqlite, run.json")
    return 0 if rows else 1


def _run_studies(
    args: argparse.Namespace,
    run: dict[str, Any],
    setup: _Setup,
    budget_epochs: int,
    store: Store,
    executor: Executor,
) -> None:
    """Every (strategy, seed) study, one after another, each with every worker."""
    total = budget_epochs * len(run["strategies"]) * run["seeds"]
    done = sum(r.epochs for r in store.records())  # of a resumed run
    with tqdm(
        total=total, initial=done, unit="epoch", disable=args.quiet, dynamic_ncols=True
    ) as bar:
        for strategy in run["strategies"]:
            for seed in range(run["seeds"]):
                bar.set_description(f"{strategy} seed {seed}")

                def advance(record: TrialRecord) -> None:
                    bar.update(record.epochs)
                    bar.set_postfix(trial=record.trial_id, status=record.status)

                summary = run_study(
                    setup.task,
                    strategy,
                    seed,
                    budget_epochs,
                    store,
                    advance,
                    executor=executor,
                    resume=args.resume,
                    prior=setup.prior if STRATEGIES[strategy].uses_prior else (),
                )
                bar.update(budget_epochs - summary.epochs_spent)  # unspent budget


def cli() -> NoReturn:
    """Command-line entry: pin ``PYTHONHASHSEED`` (SMAC's proposals depend on string hashing,
    so without it the same seed gives other trials in another process), then run ``main``."""
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "mfnas.bench", *sys.argv[1:]])
    sys.exit(main())
