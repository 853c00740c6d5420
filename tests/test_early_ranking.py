"""The offline early-ranking check (benchmarks/early_ranking.py) on synthetic curves."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mfnas.replay.table import Recording, write_table

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "early_ranking.py"


@pytest.fixture(scope="module")
def early_ranking():
    spec = importlib.util.spec_from_file_location("early_ranking", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_extrapolate_recovers_a_saturating_curve(early_ranking):
    t = np.arange(1, 28, dtype=float)
    curve = 0.3 - 0.2 * np.exp(-0.2 * t)
    assert early_ranking.extrapolate(curve, 27) == pytest.approx(curve[-1], abs=1e-3)
    assert early_ranking.extrapolate(curve, 27) > curve[8] + 0.02  # beyond the 9th epoch


def test_main_reports_ranking_and_regret(early_ranking, tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.arange(1, 28, dtype=float)
    recordings = [
        Recording(
            id=i,
            config={"x": float(i)},
            train_seed=i,
            curve=tuple(float(v) for v in a - 0.1 * np.exp(-0.3 * t)),
            epoch_seconds=(1.0,) * 27,
            val={"score": float(a)},
            test={"score": float(a)},
        )
        for i, a in enumerate(rng.uniform(0.2, 0.4, size=30))
    ]
    write_table(tmp_path / "curves.csv.gz", recordings, 27)
    early_ranking.main(str(tmp_path))
    out = capsys.readouterr().out
    assert "30 ok configurations, 27 epochs" in out
    assert "epoch 9 vs final: Spearman 1.000" in out  # same shape, shifted: a perfect ranking
    assert "by the epoch-9 score 0.0000" in out
