"""``python -m mfnas.bench``: compare search strategies on one task under the same epoch budget.

Every strategy runs once per seed (0..K-1) and spends ``--budget`` full trainings' worth of
epochs (the sum over all its evaluations, final trainings included). Every evaluation is
committed to ``trials.sqlite`` as it finishes; at the end ``leaderboard.md``/``.csv`` and
``run.json`` are written into the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

import mfnas
from mfnas.device import DEVICES
from mfnas.report import publish
from mfnas.runner import run_study
from mfnas.store import Store, TrialRecord
from mfnas.strategies import STRATEGIES
from mfnas.tasks import TASKS, make_task

EXAMPLES = """examples:
  python -m mfnas.bench --task recsys                      # default: every strategy, 3 seeds
  python -m mfnas.bench --task recsys --strategies random,smac-hb --budget 5 --seeds 2
  python -m mfnas.bench --task toy --out runs/toy-demo     # the analytic test task, seconds

outputs (in --out): leaderboard.md, leaderboard.csv, report.html, anytime.png,
  test_scores.png, ranks.png, importance.csv (+ .png), trials.sqlite, run.json;
  python -m mfnas.report DIR rebuilds all but the last two from trials.sqlite
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m mfnas.bench",
        description=(
            "Run several search strategies on one task, each with the same budget of training "
            "epochs, over several seeds, and write a leaderboard. The incumbent of each run is "
            "chosen on validation among full-fidelity evaluations; only its test score is read."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", required=True, help=f"task to search: {', '.join(TASKS)}")
    parser.add_argument(
        "--strategies",
        default=",".join(STRATEGIES),
        help=f"comma-separated strategies (default: all registered: {','.join(STRATEGIES)})",
    )
    parser.add_argument(
        "--budget",
        type=_positive,
        default=10,
        help="budget per strategy and seed, in full trainings' worth of epochs: "
        "N means N x max-epochs epochs summed over every evaluation (default: 10)",
    )
    parser.add_argument(
        "--seeds", type=_positive, default=3, help="number of seeds, run as 0..K-1 (default: 3)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: a new runs/<task>-<time>/); must not hold a run already",
    )
    parser.add_argument(
        "--max-epochs",
        type=_positive,
        help="full fidelity in epochs (default: the task's own, e.g. 27 for recsys)",
    )
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="torch device (default: auto)"
    )
    parser.add_argument(
        "--data-dir",
        help="folder with MovieLens-100K's u.data (default: $MFNAS_DATA_DIR, the cache, "
        "then a download)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _versions() -> dict[str, str]:
    names = ("torch", "smac", "ConfigSpace", "xgboost", "numpy")
    found = {"mfnas": mfnas.__version__, "python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.task not in TASKS:
        parser.error(f"unknown task {args.task!r}; choose from {', '.join(TASKS)}")
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        parser.error(
            f"unknown strategy {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(STRATEGIES)}"
        )
    started = datetime.now(timezone.utc)
    out = args.out or Path("runs") / f"{args.task}-{started:%Y%m%d-%H%M%S}"
    if (out / "trials.sqlite").exists():
        parser.error(f"{out} already holds a run (trials.sqlite); choose another --out")
    try:
        task = make_task(
            args.task, max_epochs=args.max_epochs, device=args.device, data_dir=args.data_dir
        )
        task.space  # noqa: B018 - load the space now so a broken one fails before any work
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "mfnas.bench", *(sys.argv[1:] if argv is None else argv)])
    budget_epochs = args.budget * task.max_epochs
    run_info = {
        "command": command,
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "task": task.name,
        "mode": "live",
        "strategies": strategies,
        "seeds": list(range(args.seeds)),
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
    with Store(out / "trials.sqlite") as store:
        store.set_meta(
            task=task.name,
            mode="live",
            metric=task.metric,
            maximize=task.maximize,
            min_epochs=task.min_epochs,
            max_epochs=task.max_epochs,
            budget_epochs=budget_epochs,
            command=command,
            space=task.space.to_serialized_dict(),
            references=task.references(),
        )
        total = budget_epochs * len(strategies) * args.seeds
        with tqdm(total=total, unit="epoch", disable=args.quiet, dynamic_ncols=True) as bar:
            for strategy in strategies:
                for seed in range(args.seeds):
                    bar.set_description(f"{strategy} seed {seed}")

                    def advance(record: TrialRecord) -> None:
                        bar.update(record.epochs)
                        bar.set_postfix(trial=record.trial_id, status=record.status)

                    summary = run_study(task, strategy, seed, budget_epochs, store, advance)
                    bar.update(budget_epochs - summary.epochs_spent)  # unspent budget
        run_info["finished"] = _now()
        (out / "run.json").write_text(json.dumps(run_info, indent=2) + "\n")
        rows = publish(store, out)
    if not args.quiet:
        print((out / "leaderboard.md").read_text())
    print(f"wrote {out}/: leaderboard.md/.csv, report.html, plots, trials.sqlite, run.json")
    return 0 if rows else 1


def cli() -> NoReturn:
    """Command-line entry: pin ``PYTHONHASHSEED`` (SMAC's proposals depend on string hashing,
    so without it the same seed gives other trials in another process), then run ``main``."""
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "mfnas.bench", *sys.argv[1:]])
    sys.exit(main())


if __name__ == "__main__":
    cli()
