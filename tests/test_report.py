"""The published outputs: plots, importance and a self-contained report, rebuilt from the store."""

from __future__ import annotations

import csv
import re

import pytest

from mfnas.analysis.plots import critical_difference, strategy_colour
from mfnas.cli.bench import main as bench
from mfnas.cli.report import main as report

OUTPUTS = ("leaderboard.md", "leaderboard.csv", "anytime.png", "test_scores.png", "ranks.png",
           "importance.csv", "importance.png", "report.html")  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    args = ["--task", "toy", "--strategies", "random,evolution,hyperband", "--budget", "4",
            "--seeds", "5", "--out", str(out), "--quiet"]  # fmt: skip
    assert bench(args) == 0
    return out


def test_a_run_publishes_every_output(run_dir) -> None:
    for name in OUTPUTS:
        assert (run_dir / name).stat().st_size > 0, name
    for name in OUTPUTS:
        if name.endswith(".png"):
            assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.reader((run_dir / "importance.csv").read_text().splitlines()))
    assert rows[0] == ["hyperparameter", "mean_abs_contribution"]
    assert {r[0] for r in rows[1:]} == {"arch", "x", "lr", "depth", "width"}
    values = [float(r[1]) for r in rows[1:]]
    assert values == sorted(values, reverse=True) and values[0] > 0


def test_report_html_is_self_contained(run_dir) -> None:
    page = (run_dir / "report.html").read_text()
    assert "python -m mfnas.bench --task toy" in page and "Run metadata" in page
    assert page.count("data:image/png;base64,") == 4
    for ref in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert ref.startswith("data:"), ref
    assert not re.search(r"https?://|<script|<link|@import", page)


def test_report_rebuilds_the_same_tables_from_the_store(run_dir, capsys) -> None:
    before = {n: (run_dir / n).read_text() for n in ("leaderboard.csv", "importance.csv")}
    for name in OUTPUTS:
        (run_dir / name).unlink()
    assert report([str(run_dir)]) == 0
    assert all((run_dir / name).exists() for name in OUTPUTS)
    assert {n: (run_dir / n).read_text() for n in before} == before


def test_report_on_a_folder_without_a_store_is_a_clear_error(tmp_path, capsys) -> None:
    assert report([str(tmp_path)]) == 2
    assert "trials.sqlite does not exist" in capsys.readouterr().err


def test_colours_are_fixed_per_strategy_and_distinct() -> None:
    names = ["random", "grid", "one-epoch", "evolution", "smac-bo", "hyperband", "smac-hb",
             "hierarchical", "optuna-tpe", "optuna-hb"]  # fmt: skip
    colours = [strategy_colour(n) for n in names]
    assert len(set(colours)) == len(names)
    assert strategy_colour("smac-hb") == colours[6]


def test_critical_difference_matches_demsar() -> None:
    # Demšar (2006): k = 4 classifiers, N = 14 data sets -> CD = 2.569 * sqrt(20 / 84) = 1.25
    assert critical_difference(4, 14) == pytest.approx(1.2536, abs=1e-3)
