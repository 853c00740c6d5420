"""The published outputs: plots, importance and a self-contained report, rebuilt from the store."""

from __future__ import annotations

import csv
import re

import pytest

from mfnas.analysis.plots import strategy_colour
from mfnas.analysis.report import publish
from mfnas.cli.bench import main as bench
from mfnas.cli.report import main as report
from mfnas.store import Store

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


def test_report_tables_scroll_sideways_inside_the_page(run_dir) -> None:
    page = (run_dir / "report.html").read_text()
    assert re.search(r"\.scroll\{[^}]*overflow-x:auto", page)
    tables = page.count("<table")
    assert tables >= 2 and page.count('<div class="scroll"><table') == tables


def test_leaderboard_and_report_state_the_friedman_test(run_dir) -> None:
    # 3 strategies over 5 seeds: the test and Nemenyi's critical difference are defined
    for name in ("leaderboard.md", "report.html"):
        text = (run_dir / name).read_text()
        found = re.search(r"all 3 strategies rank alike, over 5 seeds as blocks: chi-square "
                          r"[0-9.]+, p = [0-9.e-]+\. Nemenyi critical difference at alpha "
                          r"0\.05: 1\.4823", text)  # fmt: skip
        assert found, name  # CD = 2.343 * sqrt(3 * 4 / (6 * 5)) = 1.482


def test_publish_reads_the_store_once(run_dir, tmp_path, monkeypatch) -> None:
    calls: list[str] = []

    def counted(name: str):
        method = getattr(Store, name)

        def read(self: Store, *args, **kwargs):
            calls.append(name)
            return method(self, *args, **kwargs)

        return read

    for name in ("meta", "records", "diagnostics"):
        monkeypatch.setattr(Store, name, counted(name))
    with Store(run_dir / "trials.sqlite") as store:
        publish(store, tmp_path)
    assert sorted(calls) == ["diagnostics", "meta", "records"]
    assert (tmp_path / "leaderboard.csv").read_text() == (run_dir / "leaderboard.csv").read_text()


def test_report_rebuilds_the_same_tables_from_the_store(run_dir, capsys) -> None:
    before = {n: (run_dir / n).read_text() for n in ("leaderboard.csv", "importance.csv")}
    for name in OUTPUTS:
        (run_dir / name).unlink()
    assert report([str(run_dir)]) == 0
    assert all((run_dir / name).exists() for name in OUTPUTS)
    assert {n: (run_dir / n).read_text() for n in before} == before


def test_report_on_a_folder_without_a_store_is_a_clear_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        report([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "trials.sqlite does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"SQLite format 3\x00" + b"\x00" * 84])
def test_report_on_a_broken_store_is_one_line_and_never_writes_it(tmp_path, capsys, content):
    (tmp_path / "trials.sqlite").write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        report([str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "not an intact mfnas store" in err
    assert [p.name for p in tmp_path.iterdir()] == ["trials.sqlite"]
    assert (tmp_path / "trials.sqlite").read_bytes() == content


def test_colours_are_fixed_per_strategy_and_distinct() -> None:
    names = ["random", "grid", "one-epoch", "evolution", "smac-bo", "hyperband", "smac-hb",
             "hierarchical", "optuna-tpe", "optuna-hb", "surrogate-hb", "surrogate-hb-nopred",
             "surrogate-hb-warm", "smac-gp", "optuna-gp", "dehb", "asha", "bohb-st",
             "asha-bore"]  # fmt: skip
    colours = [strategy_colour(n) for n in names]
    assert len(set(colours)) == len(names)
    assert strategy_colour("smac-hb") == colours[6]
