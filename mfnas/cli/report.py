"""``python -m mfnas.report DIR``: rebuild every table, plot and the HTML report from a run's store.

Nothing is re-run: everything is read from ``DIR/trials.sqlite`` (and ``DIR/run.json`` for
the report's metadata when present).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mfnas.analysis.report import publish
from mfnas.cli.common import OneLineParser
from mfnas.store import Store, StoreError


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m mfnas.report",
        description="Regenerate a run's leaderboard, plots, importance and report.html from "
        "its trials.sqlite, without re-running anything.",
    )
    parser.add_argument("run_dir", type=Path, help="a run's output folder (holds trials.sqlite)")
    args = parser.parse_args(argv)
    db = args.run_dir / "trials.sqlite"
    if not db.is_file():
        parser.error(f"{db} does not exist")
    try:
        store = Store(db, readonly=True)  # the report never writes the store
    except StoreError as exc:
        parser.error(str(exc))
    with store:
        publish(store, args.run_dir)
    print(
        f"wrote {args.run_dir}/leaderboard.md, leaderboard.csv, *.png, importance.csv, report.html"
    )
    return 0


def cli() -> None:
    """Command-line entry point."""
    sys.exit(main())
