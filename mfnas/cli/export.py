"""``python -m mfnas.export RUN_DIR --out MODEL_DIR``: train the model a run found, once more at
full fidelity with its recorded training seed, and write it as a self-describing model folder
(weights, configuration, data fingerprint, metrics, what serving needs, MODEL.md) that
``python -m mfnas.serve`` serves."""

from __future__ import annotations

import sys
from pathlib import Path

from mfnas.cli.common import OneLineParser
from mfnas.tasks.device import DEVICES


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m mfnas.export",
        description="Export the best model of a run: the incumbent with the best validation "
        "score over its studies (or of one study, with --strategy and --seed), trained again "
        "at full fidelity with the seed the run trained it with, written to --out with its "
        "metrics, data fingerprint and model card. On the machine and thread count of a live "
        "run the export's metrics equal the run's record.",
    )
    parser.add_argument("run_dir", type=Path, help="a run's output folder (holds trials.sqlite)")
    parser.add_argument("--out", type=Path, required=True, help="the model folder to write")
    parser.add_argument("--strategy", help="export this strategy's incumbent (default: any)")
    parser.add_argument("--seed", type=int, help="export the incumbent of this run seed")
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="torch device (default: auto)"
    )
    parser.add_argument(
        "--data-dir", help="folder with the task's data (default: the run's, then as the run)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a model folder that exists"
    )
    args = parser.parse_args(argv)

    from mfnas.data import DataError
    from mfnas.deploy.bundle import BundleError, check_replaceable
    from mfnas.deploy.export import ExportError, export_model

    try:
        check_replaceable(args.out, args.overwrite)  # before any training
    except BundleError as exc:
        parser.error(f"--out {exc}")
    try:
        exported = export_model(
            args.run_dir,
            args.out,
            strategy=args.strategy,
            seed=args.seed,
            device=args.device,
            data_dir=args.data_dir,
            overwrite=args.overwrite,
        )
    except (ExportError, BundleError, DataError, ValueError) as exc:
        parser.error(str(exc))
    manifest = exported.manifest
    source, metric = manifest["source"], manifest["metric"]
    continued = (
        f", continued from epoch {exported.continued_from}" if exported.continued_from else ""
    )
    verdict = {True: "equal to the run's record", False: "NOT equal to the run's record"}.get(
        manifest["reproduces_record"], "the run's record was a replay"
    )
    print(
        f"exported {manifest['task']} model of {source['strategy']} seed {source['seed']} "
        f"trial {source['trial']} ({manifest['epochs']} epochs{continued}) to {args.out}: "
        f"validation {metric} {manifest['metrics']['val'][metric]:.4f}, test "
        f"{manifest['metrics']['test'][metric]:.4f} ({verdict})"
    )
    print(f"serve it: python -m mfnas.serve {args.out}")
    return 0


def cli() -> None:
    sys.exit(main())
