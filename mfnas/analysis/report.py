"""A run's published outputs: leaderboard tables, plots, importance and ``report.html``.

Everything is read from one ``RunView`` of the run's store (and ``run.json`` for the report's
metadata when present); ``publish`` is what ``python -m mfnas.bench`` calls at the end and
``python -m mfnas.report DIR`` calls on a stored run.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mfnas.analysis.importance import hyperparameter_importance
from mfnas.analysis.leaderboard import page_context, write_leaderboard
from mfnas.analysis.plots import plot_anytime, plot_importance, plot_ranks, plot_test_scores
from mfnas.analysis.render import render
from mfnas.analysis.view import RunView
from mfnas.store import Store

PLOTS: dict[str, tuple[str, Callable[[RunView, Path], Path]]] = {
    "anytime.png": ("Anytime performance", plot_anytime),
    "test_scores.png": ("Final test scores", plot_test_scores),
    "ranks.png": ("Ranks across seeds", plot_ranks),
}


def _importance(view: RunView, out: Path) -> list[tuple[str, float]]:
    """Write ``importance.csv`` (and its plot when there is enough data); return the pairs."""
    pairs = hyperparameter_importance(view)
    with open(out / "importance.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hyperparameter", "mean_abs_contribution"])
        writer.writerows(pairs)
    if pairs:
        plot_importance(pairs, view.metric, out / "importance.png")
    return pairs


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def write_report(
    view: RunView, out: Path, rows: list[dict[str, Any]], importance: list[tuple[str, float]]
) -> Path:
    """Write the self-contained ``report.html`` (inline CSS, images as data URIs, wide tables
    scrolling sideways inside the page); the plots must already be in ``out``."""
    run_json = out / "run.json"
    info = json.loads(run_json.read_text()) if run_json.exists() else {}
    page = render(
        "report.html",
        **page_context(view, rows),
        out=str(out),
        figures=[(title, _data_uri(out / name)) for name, (title, _) in PLOTS.items()],
        importance=importance,
        importance_png=_data_uri(out / "importance.png") if importance else None,
        run_info=json.dumps(info, indent=2) if info else None,
    )
    path = out / "report.html"
    path.write_text(page)
    return path


def publish(store: Store, out: Path) -> list[dict[str, Any]]:
    """Write the leaderboard tables, the plots, ``importance.csv`` and ``report.html`` of the
    run in ``store`` into ``out``, reading the store once; return the leaderboard rows."""
    view = RunView.load(store)
    rows = write_leaderboard(view, out)
    for name, (_, plot) in PLOTS.items():
        plot(view, out / name)
    write_report(view, out, rows, _importance(view, out))
    return rows
