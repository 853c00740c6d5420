"""A run's published outputs: leaderboard tables, plots, importance and ``report.html``.

Everything is read from the run's store (and ``run.json`` for the report's metadata when
present); ``publish`` is what ``python -m mfnas.bench`` calls at the end and
``python -m mfnas.report DIR`` calls on a stored run.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any

from ConfigSpace import ConfigurationSpace

from mfnas.analysis.importance import hyperparameter_importance
from mfnas.analysis.leaderboard import COLUMNS, best_outcome, mode_note, write_leaderboard
from mfnas.analysis.plots import plot_anytime, plot_importance, plot_ranks, plot_test_scores
from mfnas.store import Store

PLOTS = {
    "anytime.png": ("Anytime performance", plot_anytime),
    "test_scores.png": ("Final test scores", plot_test_scores),
    "ranks.png": ("Ranks across seeds", plot_ranks),
}


def _importance(store: Store, out: Path) -> list[tuple[str, float]]:
    """Write ``importance.csv`` (and its plot when there is enough data); return the pairs."""
    meta = store.meta()
    space = ConfigurationSpace.from_serialized_dict(meta["space"])
    pairs = hyperparameter_importance(space, store.records(), meta["max_epochs"])
    with open(out / "importance.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hyperparameter", "mean_abs_contribution"])
        writer.writerows(pairs)
    if pairs:
        plot_importance(pairs, meta["metric"], out / "importance.png")
    return pairs


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            value = "" if value != value else f"{value:.4f}"
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(path: Path, title: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}"></figure>'


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;
padding:3px 6px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
img{max-width:100%}code,pre{background:#f6f6f6;padding:2px 4px}.side{display:flex;gap:2em;
flex-wrap:wrap}.side>div{flex:1;min-width:320px}"""


def write_report(store: Store, out: Path, rows: list[dict[str, Any]],
                 importance: list[tuple[str, float]]) -> Path:  # fmt: skip
    """Write the self-contained ``report.html`` (inline CSS, images as data URIs)."""
    meta = store.meta()
    run_json = out / "run.json"
    info = json.loads(run_json.read_text()) if run_json.exists() else {}
    top = best_outcome(store)
    parts = [
        f"<h1>mfnas leaderboard: {html.escape(meta['task'])} ({html.escape(meta['mode'])})</h1>",
        f"<p>Reproduce: <code>{html.escape(meta.get('command', ''))}</code><br>",
        f"Regenerate this page: <code>python -m mfnas.report {html.escape(str(out))}</code></p>",
        f"<p>{html.escape(mode_note(meta))}</p>",
        f"<p>Objective: validation {html.escape(meta['metric'])}; budget "
        f"{meta['budget_epochs']} epochs per strategy and seed; full fidelity "
        f"{meta['max_epochs']} epochs. Incumbents are chosen on validation; only their test "
        "scores are read.</p>",
        _html_table(list(COLUMNS), [[r[c] for c in COLUMNS] for r in rows]),
    ]
    references = meta.get("references") or {}
    if references:
        metric = meta["metric"]
        parts += [
            "<h2>Reference rows (not searched)</h2>",
            _html_table(
                ["reference", f"val {metric}", f"test {metric}", "notes"],
                [[n, r["val"][metric], r["test"][metric], r.get("note", "")]
                 for n, r in references.items()],
            ),
        ]  # fmt: skip
    parts += [f"<h2>{title}</h2>" + _image(out / name, title) for name, (title, _) in PLOTS.items()]
    best = "<p>No full-fidelity evaluation finished.</p>"
    if top is not None:
        config = json.dumps(top.best.config, indent=2, sort_keys=True)
        best = (f"<h3>Best configuration (by validation: {html.escape(top.strategy)}, seed "
                f"{top.seed})</h3><pre>{html.escape(config)}</pre>")  # fmt: skip
    why = "<p>Too few full-fidelity evaluations to fit an importance model.</p>"
    if importance:
        why = _image(out / "importance.png", "Hyperparameter importance") + _html_table(
            ["hyperparameter", "mean |contribution|"], [list(p) for p in importance]
        )
    parts += [f'<h2>What mattered</h2><div class="side"><div>{best}</div><div>{why}</div></div>']
    if info:
        parts += ["<h2>Run metadata</h2>", f"<pre>{html.escape(json.dumps(info, indent=2))}</pre>"]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>mfnas: {html.escape(meta['task'])}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(page)
    return path


def publish(store: Store, out: Path) -> list[dict[str, Any]]:
    """Write the leaderboard tables, the plots, ``importance.csv`` and ``report.html``."""
    rows = write_leaderboard(store, out)
    for name, (_, plot) in PLOTS.items():
        plot(store, out / name)
    write_report(store, out, rows, _importance(store, out))
    return rows
