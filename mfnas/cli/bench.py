"""``python -m mfnas.bench``: compare search strategies on one task under the same epoch budget.

Parses into a ``RunSpec`` and ``ExecutionOptions`` and calls ``mfnas.execution.benchmark.run``
(``run_suite`` for several tasks or budgets). Bad input: one line on stderr, exit status 2; an
interrupt: exit status 130 and the command that resumes the run.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

from mfnas.cli.common import (
    OneLineParser,
    non_negative_float,
    on_off,
    positive_int,
    positive_int_list,
    positive_seconds,
)
from mfnas.execution import benchmark, interrupts
from mfnas.execution.checkpoints import DEFAULT_CHECKPOINT_MB
from mfnas.execution.spec import (
    DEFAULT_BUDGET,
    DEFAULT_SEEDS,
    DEFAULT_STRATEGIES,
    ExecutionOptions,
    RunSpec,
    SpecError,
    all_strategies,
)
from mfnas.replay.modes import MODES
from mfnas.strategies import STRATEGIES
from mfnas.tasks import TASKS
from mfnas.tasks.device import DEVICES

EXAMPLES = """examples:
  python -m mfnas.bench --task recsys                      # random vs smac-hb, 3 seeds
  python -m mfnas.bench --task toy --strategies all        # every registered strategy
  python -m mfnas.bench --task recsys --strategies random,evolution --budget 10 --seeds 2
  python -m mfnas.bench --task image --strategies all      # CNN search on 8x8 digits
  python -m mfnas.bench --task recsys --mode tabular --strategies all --seeds 10   # replay, minutes
  python -m mfnas.bench --task recsys --mode tabular --budget 5,10,20,50 --seeds 20
  python -m mfnas.bench --task recsys,image --strategies random,smac-hb   # ranks across tasks
  python -m mfnas.bench --task recsys --mode tabular,surrogate --strategies all --seeds 20
                                                           # do the two replays rank alike?
  python -m mfnas.bench --task recsys --workers 4          # 4 evaluations at once (Dask)
  python -m mfnas.bench --resume --out runs/recsys-demo    # continue an interrupted run

faults: an evaluation that raises or returns NaN/inf is recorded crashed, its epochs spent, and
  the run goes on; one whose Dask worker dies is retried once, then recorded crashed

outputs (in --out): leaderboard.md, leaderboard.csv, report.html, anytime.png,
  test_scores.png, ranks.png, importance.csv (+ .png), trials.sqlite, run.json;
  python -m mfnas.report DIR rebuilds all but the last two from trials.sqlite
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m mfnas.bench",
        description="Run several search strategies on one task, each with the same budget of "
        "training epochs, over several seeds, and write a leaderboard. The incumbent of each run "
        "is chosen on validation among full-fidelity evaluations; only its test score is read.",
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
        "--strategies", help=f"comma-separated, or all: {','.join(STRATEGIES)} "
        f"(default: {','.join(DEFAULT_STRATEGIES)})",
    )  # fmt: skip
    parser.add_argument(
        "--budget",
        type=positive_int_list,
        help="budget per strategy and seed, in full trainings' worth of epochs: "
        f"N means N x max-epochs epochs summed over every evaluation (default: {DEFAULT_BUDGET}); "
        "several comma-separated (5,10,20) run one after another into <out>/<task>-budget<N>/ "
        "and <out>/leaderboard.md sets them side by side",
    )
    parser.add_argument(
        "--budget-seconds",
        type=positive_seconds,
        metavar="S",
        help="instead of --budget: each strategy and seed gets S seconds of its clock (real "
        "seconds live; the simulated clock in a replay, decision time included); no trial "
        "starts after S, one running then stops after the epoch that crosses it. Strategies "
        "plan with the epochs S affords at the task's recorded cost per epoch (a live run "
        "needs the task's recorded curves, benchmarks/<task>/)",
    )
    parser.add_argument(
        "--seeds", type=positive_int, help=f"seeds 0..K-1 (default: {DEFAULT_SEEDS})"
    )
    parser.add_argument(
        "--continuation",
        type=on_off,
        metavar="on|off",
        help="on (the default): a configuration asked again at more epochs (a Hyperband "
        "promotion) continues its training from a checkpoint and the budget pays only the new "
        "epochs; off: it retrains from scratch, paying them all again",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: a new runs/<task>-<time>/); one that holds a run already "
        "is refused unless --resume or --overwrite is given",
    )
    parser.add_argument("--max-epochs", type=positive_int, help="full fidelity (epochs)")
    parser.add_argument(
        "--space",
        metavar="FILE",
        help="a ConfigSpace YAML file to search instead of the task's own space "
        "(spaces/<task>.yaml shows the format); it must use the task's hyperparameter names",
    )
    parser.add_argument(
        "--mode",
        type=_modes,
        help="live: train every evaluation (default); tabular: answer from the recorded "
        "learning curves (benchmarks/<task>/, python -m mfnas.collect), nearest recorded "
        "configuration for one not recorded; surrogate: predict them with the XGBoost surrogate "
        "fitted on those curves (surrogates/<task>/). Replays run on a simulated clock: "
        "recorded (or predicted) training seconds plus the strategy's measured decision time. "
        "Several comma-separated (tabular,surrogate) run into <out>/<task>-<mode>/, and "
        "<out>/leaderboard.md says how alike the modes rank the strategies (Kendall's tau)",
    )
    parser.add_argument(
        "--replay-from", metavar="DIR", help="the recording or surrogate to replay (default: "
        "benchmarks/<task>, surrogates/<task>)",
    )  # fmt: skip
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="torch device (default: auto)"
    )
    parser.add_argument(
        "--data-dir", help="folder with the task's data, e.g. MovieLens-100K's u.data (default: "
        "$MFNAS_DATA_DIR, the cache, then a download)",
    )  # fmt: skip
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
        help="torch threads for evaluations in this process (default: one per core); on a busy "
        "machine 1 is often faster; Dask workers use 1. CPU results repeat for the same N",
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a Dask cluster (tcp://host:8786)")
    parser.add_argument(
        "--checkpoint-mb",
        type=non_negative_float,
        default=DEFAULT_CHECKPOINT_MB,
        metavar="MB",
        help="disk a live run with continuation may fill with checkpoints "
        f"(<out>/checkpoints/, emptied as each study ends; default: {DEFAULT_CHECKPOINT_MB:g}); "
        "past it the least recently used go, and continuing one of those retrains it (the "
        "results stay, the cost grows). On a cluster the workers need --out on a shared file "
        "system",
    )
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="write every trial's validation and training-loss curves, with its configuration "
        "as hyperparameters, to TensorBoard under DIR/<strategy>-seed<seed>/trial<id> as it "
        "ends (needs the tensorboard package; watch with tensorboard --logdir DIR)",
    )
    parser.add_argument(
        "--trial-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="an evaluation running longer on its worker is cancelled, its worker restarted, "
        "and it is recorded crashed (default: no limit). Stopping one needs a worker process, so "
        "this runs evaluations on a local Dask cluster even with --workers 1",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out with its own run arguments (giving other "
        "values is an error); finished evaluations are kept; execution options may change",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


_AS_GIVEN = (
    "seeds",
    "max_epochs",
    "space",
    "replay_from",
    "continuation",
    "budget_seconds",
)


def _given(args: argparse.Namespace) -> dict[str, object]:
    """The spec's fields as given on the command line (None where left out); ``task``,
    ``budget`` and ``mode`` only where they name one run, not several side by side."""
    strategies = [s.strip() for s in (args.strategies or "").split(",") if s.strip()]
    return {
        "task": args.task if args.task and "," not in args.task else None,
        "strategies": strategies or None,
        "budget": args.budget[0] if args.budget and len(args.budget) == 1 else None,
        "mode": args.mode[0] if args.mode and len(args.mode) == 1 else None,
        **{key: getattr(args, key) for key in _AS_GIVEN},
    }


def _new_spec(args: argparse.Namespace, task: str) -> RunSpec:
    """The spec of a new run of ``task`` (of the first budget): what was given, defaults for
    the rest; ``--strategies all`` is every registered strategy the task can run."""
    given = {k: v for k, v in _given(args).items() if v is not None}
    if given.get("strategies") == ["all"]:
        given["strategies"] = all_strategies(task, _mode_list(args)[0], args.replay_from)
    return RunSpec(
        **{**given, "task": task, "budget": _budgets(args)[0], "mode": _mode_list(args)[0]}
    )


def _modes(text: str) -> list[str]:
    """An argparse type: comma-separated modes (``tabular,surrogate``), each once."""
    modes = [part.strip() for part in text.split(",")]
    for mode in modes:
        if mode not in MODES:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {mode!r} (choose from {', '.join(MODES)})"
            )
    if len(set(modes)) < len(modes):
        raise argparse.ArgumentTypeError(f"a mode given twice: {text!r}")
    return modes


def _mode_list(args: argparse.Namespace) -> list[str]:
    """The modes given (live when none)."""
    return args.mode or ["live"]


def _budgets(args: argparse.Namespace) -> list[int | None]:
    """The budgets in full trainings given (None for a budget in seconds)."""
    if args.budget_seconds is not None:
        if args.budget:
            raise SpecError("give --budget or --budget-seconds, not both")
        return [None]
    return args.budget or [DEFAULT_BUDGET]


def _resumed(stored: RunSpec, args: argparse.Namespace) -> RunSpec:
    """``stored``, after checking that the run arguments given agree with it."""

    def shown(value: object) -> object:
        return ("on" if value else "off") if isinstance(value, bool) else value

    for key in stored.differences(given := _given(args)):
        raise SpecError(
            f"--resume continues {args.out} with its own arguments: --{key.replace('_', '-')} "
            f"{shown(given[key])} differs from its {shown(stored.to_json()[key])}"
        )
    return stored


def _plan(args: argparse.Namespace) -> tuple[dict[str, RunSpec], Path]:
    """The specs to run (one named ``""`` for a single run) and the output folder."""
    tasks = [t.strip() for t in (args.task or "").split(",") if t.strip()]
    if args.resume:
        if args.out is None:
            raise SpecError("--resume needs --out, the folder of the run to continue")
        if (args.out / benchmark.SUITE_JSON).exists():
            stored = benchmark.stored_suite(args.out)
            return {n: _resumed(s, args) for n, s in stored.items()}, args.out
        return {"": _resumed(benchmark.stored_spec(args.out)[0], args)}, args.out
    if not tasks:
        raise SpecError("the following arguments are required: --task")
    started = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    if len(tasks) == 1 and len(args.budget or ()) <= 1 and len(_mode_list(args)) == 1:
        return {"": _new_spec(args, tasks[0])}, args.out or Path("runs") / f"{tasks[0]}-{started}"
    if args.replay_from is not None and len(_mode_list(args)) > 1:
        raise SpecError("--replay-from names one mode's data; give it with one --mode only")
    specs = benchmark.suite_specs(
        _new_spec(args, tasks[0]), tasks, _budgets(args), _mode_list(args)
    )
    return specs, args.out or Path("runs") / f"suite-{started}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (2 for bad input, 130 when interrupted)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        parser.error('--tensorboard needs tensorboard: pip install "mfnas[tensorboard]"')
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    command = shlex.join(["python", "-m", "mfnas.bench", *argv])
    out = args.out
    try:
        options = ExecutionOptions(
            **{f.name: getattr(args, f.name) for f in fields(ExecutionOptions)}
        )
        specs, out = _plan(args)
        with interrupts.stop_on_signals():  # SIGINT and SIGTERM: the resume hint, exit 130
            if "" in specs:
                rows = benchmark.run(specs[""], options, out, command, args.resume, args.overwrite)
                written = "leaderboard.md/.csv, report.html, plots, trials.sqlite, run.json"
            else:
                rows = benchmark.run_suite(
                    specs, options, out, command, args.resume, args.overwrite
                )
                written = f"leaderboard.md/.csv (ranks across {', '.join(specs)})"
    except (SpecError, benchmark.RunError) as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        again = shlex.join(["python", "-m", "mfnas.bench", "--resume", "--out", str(out)])
        print(f"interrupted; continue with: {again}", file=sys.stderr)
        return 130
    if not args.quiet:
        print((out / "leaderboard.md").read_text())
    print(f"wrote {out}/: {written}")
    return 0 if rows else 1
