"""The analytic toy task: learning-curve shaped, deterministic, conditional."""

from __future__ import annotations

import numpy as np

from mfnas.tasks.toy import ToyTask


def test_toy_curves_rise_and_are_deterministic(toy: ToyTask) -> None:
    toy.space.seed(3)
    for config in toy.space.sample_configuration(20):
        result = toy.evaluate(config, toy.max_epochs, seed=7)
        assert len(result.curve) == result.epochs == toy.max_epochs
        assert all(0.0 <= v < 1.0 for v in result.curve)
        assert result.curve[-1] >= result.curve[0] - 0.02  # learning, up to noise
        assert result.objective == result.val["score"] == result.curve[-1]
        assert toy.evaluate(config, toy.max_epochs, seed=7).curve == result.curve


def test_toy_low_fidelity_is_a_prefix_and_curves_cross(toy: ToyTask) -> None:
    toy.space.seed(0)
    configs = toy.space.sample_configuration(40)
    short = [toy.evaluate(c, 1, 0).curve[0] for c in configs]
    full = [toy.evaluate(c, toy.max_epochs, 0) for c in configs]
    for s, f in zip(short, full, strict=True):
        assert s == f.curve[0]  # the same (config, seed) trains the same first epoch
    rank = np.corrcoef(
        np.argsort(np.argsort(short)), np.argsort(np.argsort([f.objective for f in full]))
    )
    assert rank[0, 1] < 0.95  # early and final rankings disagree: multi-fidelity is not trivial
