"""``python -m mfnas.fit_surrogate``: fit the XGBoost surrogate of a recorded benchmark.

Reads ``<benchmark>/curves.csv.gz`` and ``<benchmark>/collection.json`` (written by
``python -m mfnas.collect``), fits the models of ``mfnas.replay.surrogate``, saves them to
``--out`` and writes ``CARD.md`` there: the data it was fitted on (with the table's sha256), the
model settings and the held-out quality by configuration.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ConfigSpace import ConfigurationSpace

from mfnas.cli.common import OneLineParser
from mfnas.provenance import versions
from mfnas.replay.surrogate import (
    MIN_CRASHES,
    NEIGHBOURS,
    Surrogate,
    fit_surrogate,
    report_epochs,
)
from mfnas.replay.table import (
    META,
    TABLE,
    Recording,
    TableError,
    read_references,
    read_table,
    write_references,
)
from mfnas.spaces import space_hash

CARD = "CARD.md"
VERSIONED = ("numpy", "xgboost", "scikit-learn", "scipy", "ConfigSpace")

EXAMPLES = """examples:
  python -m mfnas.fit_surrogate --task recsys          # benchmarks/recsys -> surrogates/recsys
  python -m mfnas.fit_surrogate --task recsys --out /tmp/surrogate --seed 1
  python -m mfnas.fit_surrogate --task toy --benchmark /tmp/toy-curves --out /tmp/toy-surrogate
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m mfnas.fit_surrogate",
        description="Fit XGBoost surrogates (objective at any epoch, cost, test objective, "
        "crashes) on a recorded benchmark, measure their held-out quality by configuration, "
        "and save them with a model card: what --mode surrogate replays.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", required=True, help="the recorded task (e.g. recsys)")
    parser.add_argument(
        "--benchmark", type=Path, help="folder of the recorded table (default: benchmarks/<task>)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: surrogates/<task>)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the models (default: 0)")
    return parser


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_benchmark(
    folder: Path, task: str
) -> tuple[dict[str, Any], ConfigurationSpace, list[Recording], str]:
    """The collection metadata, its space, the recordings and the table's sha256 of a benchmark
    folder written by ``mfnas.cli.collect``.

    The table is hashed before and after reading, so the hash is that of the rows read even
    while a collection is rewriting it. Raises TableError (one line) for a missing or broken
    folder, or one that records another task.
    """
    table, meta_path = folder / TABLE, folder / META
    if not folder.is_dir():
        raise TableError(f"{folder}: no such benchmark folder (record one with mfnas.cli.collect)")
    try:
        meta = json.loads(meta_path.read_text())
        space = ConfigurationSpace.from_serialized_dict(meta["space"])
        missing = [key for key in ("task", "metric", "maximize", "epochs") if key not in meta]
        if missing:
            raise KeyError(", ".join(missing))
    except OSError as exc:
        raise TableError(f"{meta_path}: cannot read it: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise TableError(f"{meta_path}: broken: {type(exc).__name__}: {message}") from None
    if meta["task"] != task:
        raise TableError(f"{folder} records task {meta['task']!r}, not {task!r}")
    if not table.is_file():
        raise TableError(f"{table}: missing (record it with mfnas.cli.collect)")
    for _ in range(3):
        before = _sha256(table)
        recordings, epochs = read_table(table)
        if _sha256(table) == before:
            break
    else:
        raise TableError(f"{table}: kept changing while being read; try again")
    if recordings and epochs != meta["epochs"]:
        raise TableError(f"{table}: {epochs} epochs, but {meta_path} says {meta['epochs']}")
    return meta, space, recordings, before


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def card(surrogate: Surrogate, table: Path, command: str, seconds: float) -> str:
    """The model card: data fitted on, model settings, held-out quality, command, versions."""
    q, metric = surrogate.quality, surrogate.metric
    direction = "maximised" if surrogate.maximize else "minimised"
    settings = ", ".join(f"{k}={v}" for k, v in surrogate.params.items())
    found = ", ".join(f"{name} {version}" for name, version in versions(VERSIONED).items())
    crash = (
        "a classifier of crashing from the config vector (crash when p > 0.5)"
        if "crash" in surrogate.boosters
        else f"none (fewer than {MIN_CRASHES} crashed configurations recorded)"
    )
    rows = [
        f"| {row['epoch']} | {_number(row['r2'])} | {_number(row['spearman'])} "
        f"| {_number(row['kendall'])} |"
        for row in q["objective"]
    ]
    final = q["spearman_final"]
    spread = [
        f"| {name} | {_number(row['std_final'])} | "
        + " | ".join(_number(v) for k, v in row.items() if k != "std_final")
        + " |"
        for name, row in q["residuals"].items()
    ]
    early = report_epochs(surrogate.epochs)[:-1]  # the residual report's early epochs
    return "\n".join(
        [
            f"# Surrogate: {surrogate.task}",
            "",
            f"spearman_final: {'nan' if final is None else f'{final:.3f}'}",
            "",
            "## Fitted on",
            "",
            f"- Table: `{table}`, sha256 `{surrogate.curves_sha256}`.",
            f"- Configurations: {q['configs_ok']} ok, {q['configs_crashed']} crashed; "
            f"epochs 1..{surrogate.epochs}; space hash `{space_hash(surrogate.space)}`.",
            f"- Objective: validation {metric} ({direction}).",
            "",
            "## Models (XGBoost, UBJSON format)",
            "",
            "- Features: ConfigSpace's normalised config vector (NaN for inactive "
            "hyperparameters, read as missing), plus the epoch for the objective model.",
            f"- `objective`: (config, epoch) -> validation {metric} at that epoch, every epoch "
            f"of every ok configuration ({q['configs_ok'] * surrogate.epochs} rows).",
            "- `cost`: config -> log of the mean seconds per epoch.",
            f"- `gap`: config -> test {metric} after epoch {surrogate.epochs} minus validation "
            f"{metric} there; the predicted test {metric} is the predicted final validation "
            "value plus it.",
            f"- `crash`: {crash}.",
            f"- Settings: {settings}.",
            "",
            "## Held-out quality",
            "",
            f"GroupKFold({q['n_splits']}) with the configuration as group (no configuration on "
            "both sides of a split); out-of-fold predictions against the recorded values.",
            "",
            "| epoch | R² | Spearman | Kendall tau |",
            "|---|---|---|---|",
            *rows,
            "",
            f"- Cost model (log seconds per epoch): Spearman {_number(q['cost']['spearman'])}, "
            f"R² {_number(q['cost']['r2'])}.",
            f"- Test prediction (final validation plus gap): Spearman "
            f"{_number(q['test']['spearman'])}, "
            f"R² {_number(q['test']['r2'])}.",
            "",
            "## Residuals",
            "",
            "A prediction carries the out-of-fold residuals (recorded minus predicted: its curve "
            f"and its gap) of one of the {min(NEIGHBOURS, q['configs_ok'])} recorded "
            "configurations whose predicted "
            "final value lies nearest its own, drawn by its values, each epoch kept within the "
            "recorded range. How the recorded configurations' curves spread (standard deviation "
            "of the last epoch) and cross (Spearman of an early epoch with the last): recorded, "
            "predicted out of fold, and predicted with drawn residuals, as replays answer.",
            "",
            "| "
            + " | ".join(["curves", "std, last epoch", *(f"Spearman {e} → last" for e in early)])
            + " |",
            "|---|---|" + "---|" * len(early),
            *spread,
            "",
            "## Reproduce",
            "",
            f"    {command}",
            "",
            f"Fitted {datetime.now(timezone.utc).isoformat(timespec='seconds')} in "
            f"{seconds:.1f} s; versions: {found}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Fit and save; returns the exit status (2 for a missing or broken benchmark)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = shlex.join(
        ["python", "-m", "mfnas.fit_surrogate", *(sys.argv[1:] if argv is None else argv)]
    )
    benchmark = args.benchmark or Path("benchmarks") / args.task
    out = args.out or Path("surrogates") / args.task
    start = time.perf_counter()
    try:
        meta, space, recordings, sha = read_benchmark(benchmark, args.task)
        surrogate, _ = fit_surrogate(
            recordings,
            space,
            meta["epochs"],
            meta["metric"],
            meta["maximize"],
            args.seed,
            task=args.task,
            curves_sha256=sha,
        )
    except (TableError, ValueError) as exc:
        parser.error(str(exc))
    seconds = time.perf_counter() - start
    surrogate.save(out)
    write_references(out, read_references(benchmark))  # the replay's reference rows
    (out / CARD).write_text(card(surrogate, benchmark / TABLE, command, seconds))
    print(
        f"surrogate saved in {out}: spearman_final {_number(surrogate.quality['spearman_final'])}"
    )
    return 0


def cli() -> None:
    raise SystemExit(main())
