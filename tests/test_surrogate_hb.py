"""``surrogate-hb`` and its variants: explore, rank (low-fidelity fallback or XGBoost), prune,
finish with full trainings; the budget, the warm start, and what ``diagnostics`` reports."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
from ConfigSpace import Configuration
from conftest import record_prior

from mfnas.execution.runner import problem_for
from mfnas.spaces import config_key, plain_config
from mfnas.strategies import STRATEGIES, Problem, TrialSpec
from mfnas.strategies.base import PriorCurve
from mfnas.strategies.budget import split_budget
from mfnas.strategies.curve_predictor import CurvePredictor, curve_features
from mfnas.strategies.surrogate_hb import (
    SurrogateHyperband,
    SurrogateHyperbandNoPredictor,
    SurrogateHyperbandWarm,
)
from mfnas.tasks.base import Result
from mfnas.tasks.toy import ToyTask
from mfnas.testing.strategy import drive

Told = list[tuple[TrialSpec, Result | None]]


def problem(toy: ToyTask, budget: int, prior: bool = False) -> Problem:
    """The toy problem of ``budget`` full trainings, with the recorded toy prior or none."""
    return replace(
        problem_for(toy, budget * toy.max_epochs), prior=record_prior(toy) if prior else ()
    )


def split(told: Told, max_epochs: int) -> tuple[Told, Told]:
    """The explore and the full-fidelity (spec, result) pairs of a run."""
    explore = [(s, r) for s, r in told if s.epochs < max_epochs]
    return explore, [(s, r) for s, r in told if s.epochs == max_epochs]


def configs(told: Told) -> list[dict[str, Any]]:
    """The active values of each told trial's configuration, in order."""
    return [plain_config(spec.config) for spec, _ in told]


def low_fidelity_ranking(explore: Told) -> list[dict[str, Any]]:
    """The configs of the ok explore results, each at its highest fidelity (the first result
    among equals), ranked higher fidelity first, then higher value, then earlier trial."""
    best: dict[str, tuple[int, float, int, dict[str, Any]]] = {}
    for spec, result in explore:
        key = config_key(spec.config)
        if result is not None and (key not in best or spec.epochs > best[key][0]):
            best[key] = (spec.epochs, result.objective, spec.trial_id, plain_config(spec.config))
    ranked = sorted(best.values(), key=lambda b: (-b[0], -b[1], b[2]))
    return [b[3] for b in ranked]


@pytest.mark.parametrize(("budget", "fraction"), [(2, 0.5), (5, 0.5), (5, 0.8), (7, 0.3)])
def test_few_full_results_fall_back_to_the_low_fidelity_ranking_and_prune(
    toy, budget, fraction
) -> None:
    strategy = SurrogateHyperband(problem(toy, budget), 0, explore_fraction=fraction)
    seen = drive(strategy, toy, budget * toy.max_epochs)
    explore, full = split(seen.told, toy.max_epochs)
    explore_epochs = sum(s.epochs for s, _ in explore)
    assert 0 < explore_epochs <= split_budget(strategy.problem, fraction).first_epochs
    assert max(s.trial_id for s, _ in explore) < min(s.trial_id for s, _ in full)
    assert len(full) == (budget * toy.max_epochs - explore_epochs) // toy.max_epochs
    assert len(full) < strategy.min_full_configs  # so the predictor never ranks
    ranking = low_fidelity_ranking(explore)
    assert configs(full) == ranking[: len(full)]  # only the top-ranked are fully trained
    report = strategy.diagnostics()["predictor"]
    assert report["used"] is False and report["ranked_by"] == "low-fidelity"
    assert [p["config"] for p in report["picks"]] == configs(full)
    assert all(p["predicted"] is None for p in report["picks"])
    assert [p["measured"] for p in report["picks"]] == [r.objective for _, r in full]
    assert [c["config"] for c in report["candidates"]] == ranking
    assert all(c["predicted"] is None for c in report["candidates"])
    assert report["spearman"] is None and report["top1_hit"] is None


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_tiny_budgets_still_end_with_a_full_training(toy, budget) -> None:
    strategy = SurrogateHyperband(problem(toy, budget), 0)
    seen = drive(strategy, toy, budget * toy.max_epochs)
    explore, full = split(seen.told, toy.max_epochs)
    assert seen.spent <= budget * toy.max_epochs and len(full) >= 1
    assert not explore if budget == 1 else explore
    if budget == 1:  # nothing explored: nothing to rank
        assert strategy.diagnostics()["predictor"]["ranked_by"] == "random"


def test_a_runner_budget_below_the_problem_keeps_one_full_training(toy) -> None:
    strategy = SurrogateHyperband(problem(toy, 5), 0)  # plans for 5 full trainings
    seen = drive(strategy, toy, toy.max_epochs + 3)  # but the runner has far less
    explore, full = split(seen.told, toy.max_epochs)
    assert sum(s.epochs for s, _ in explore) <= 3 and len(full) == 1


def test_enough_full_results_let_xgboost_rank_the_remaining_picks(toy) -> None:
    strategy = SurrogateHyperband(problem(toy, 20), 0)
    seen = drive(strategy, toy, 20 * toy.max_epochs)
    _, full = split(seen.told, toy.max_epochs)
    report = strategy.diagnostics()["predictor"]
    methods = [p["ranked_by"] for p in report["picks"]]
    k = strategy.min_full_configs
    assert len(full) >= k + 3 and methods == ["low-fidelity"] * k + ["xgboost"] * (len(full) - k)
    assert report["used"] is True and report["ranked_by"] == "low-fidelity, then xgboost"
    assert all((p["predicted"] is None) == (i < k) for i, p in enumerate(report["picks"]))
    assert -1.0 <= report["spearman"] <= 1.0 and isinstance(report["top1_hit"], bool)
    predicted = [c["predicted"] for c in report["candidates"]]
    assert predicted == sorted(predicted, reverse=True)  # the final ranking, best first


def test_with_a_prior_every_pick_is_the_best_predicted_candidate_left(toy) -> None:
    strategy = SurrogateHyperbandWarm(problem(toy, 7, prior=True), 0)
    left, picked = 7 * toy.max_epochs, []
    while (spec := strategy.ask(left)) is not None:
        left -= spec.epochs
        if spec.epochs == toy.max_epochs:  # the ranking it just made is in the diagnostics
            ranking = strategy.diagnostics()["predictor"]["candidates"]
            predicted = [c["predicted"] for c in ranking]
            assert None not in predicted and predicted == sorted(predicted, reverse=True)
            best_left = next(c for c in ranking if c["config"] not in picked)
            assert plain_config(spec.config) == best_left["config"]
            picked.append(best_left["config"])
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())
    report = strategy.diagnostics()
    assert len(picked) == 3 and report["prior_curves"] == len(record_prior(toy))
    assert report["predictor"]["ranked_by"] == "xgboost"
    assert all(p["predicted"] is not None for p in report["predictor"]["picks"])
    assert -1.0 <= report["predictor"]["spearman"] <= 1.0


def test_only_the_warm_variant_uses_a_prior_and_it_requires_one(toy) -> None:
    assert {n: STRATEGIES[n].uses_prior for n in STRATEGIES if n.startswith("surrogate")} == {
        "surrogate-hb": False,
        "surrogate-hb-nopred": False,
        "surrogate-hb-warm": True,
    }
    with pytest.raises(ValueError, match=r"needs recorded curves of the task \(problem.prior\)"):
        SurrogateHyperbandWarm(problem(toy, 5), 0)
    with_prior = SurrogateHyperband(problem(toy, 5, prior=True), 0)
    without = SurrogateHyperband(problem(toy, 5), 0)
    runs = [drive(s, toy, 5 * toy.max_epochs).told for s in (with_prior, without)]
    trials = [[(s.epochs, plain_config(s.config)) for s, _ in told] for told in runs]
    assert trials[0] == trials[1]  # the others ignore a prior
    assert with_prior.diagnostics()["prior_curves"] == 0


def test_prior_curves_that_stop_short_of_full_fidelity_are_not_learned_from(toy) -> None:
    prior = record_prior(toy)
    short = PriorCurve(prior[0].config, prior[0].curve[:9])
    strategy = SurrogateHyperbandWarm(replace(problem(toy, 2), prior=(*prior, short)), 0)
    assert strategy.predictor.n_curves == len(prior)
    assert strategy.diagnostics()["prior_curves"] == len(prior)


def test_nopred_never_uses_xgboost(toy, monkeypatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("XGBoost was used")

    monkeypatch.setattr("mfnas.strategies.curve_predictor.XGBRegressor", refuse)
    with pytest.raises(AssertionError, match="XGBoost was used"):  # the trap works
        drive(SurrogateHyperbandWarm(problem(toy, 2, prior=True), 0), toy, 2 * toy.max_epochs)
    strategy = SurrogateHyperbandNoPredictor(problem(toy, 16, prior=True), 0)
    seen = drive(strategy, toy, 16 * toy.max_epochs)
    explore, full = split(seen.told, toy.max_epochs)
    report = strategy.diagnostics()
    assert len(full) > strategy.min_full_configs and strategy.predictor is None
    assert configs(full) == low_fidelity_ranking(explore)[: len(full)]
    assert report["predictor"]["used"] is False and report["prior_curves"] == 0
    assert report["predictor"]["ranked_by"] == "low-fidelity"
    assert all(p["predicted"] is None for p in report["predictor"]["picks"])


def test_same_seed_same_trials_and_diagnostics(toy) -> None:
    runs = []
    for seed in (3, 3, 4):
        strategy = SurrogateHyperbandWarm(problem(toy, 5, prior=True), seed)
        seen = drive(strategy, toy, 5 * toy.max_epochs, pending=2)
        trials = [(s.trial_id, s.epochs, plain_config(s.config)) for s, _ in seen.told]
        runs.append((trials, strategy.diagnostics()))
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_explore_results_are_awaited_and_crashed_ones_are_no_candidates(toy) -> None:
    strategy = SurrogateHyperband(problem(toy, 2), 0)
    explore = []
    while (spec := strategy.ask(2 * toy.max_epochs - sum(s.epochs for s in explore))) is not None:
        explore.append(spec)
    assert explore and all(s.epochs < toy.max_epochs for s in explore)
    crashed = explore[:3]
    for spec in explore[3:]:
        strategy.tell(spec, toy.evaluate(spec.config, spec.epochs, 0).for_strategy())
    assert strategy.ask(toy.max_epochs) is None  # explore results are still out
    for spec in crashed:
        strategy.tell(spec, None)
    final = strategy.ask(toy.max_epochs)
    assert final is not None and final.epochs == toy.max_epochs
    candidates = strategy.diagnostics()["predictor"]["candidates"]
    keys = {config_key(Configuration(toy.space, values=c["config"])) for c in candidates}
    assert keys == {config_key(s.config) for s in explore[3:]}
    assert not keys & {config_key(s.config) for s in crashed}


def test_parallel_full_trainings_pick_distinct_candidates(toy) -> None:
    strategy = SurrogateHyperband(problem(toy, 7), 0)
    seen = drive(strategy, toy, 7 * toy.max_epochs, pending=3)
    _, full = split(seen.told, toy.max_epochs)
    assert len(full) >= 3 and len({config_key(s.config) for s, _ in full}) == len(full)
    measured = [p["measured"] for p in strategy.diagnostics()["predictor"]["picks"]]
    assert None not in measured


@pytest.mark.parametrize(
    ("crash_explore", "ranked_by"), [(False, "low-fidelity"), (True, "random")]
)
def test_crashed_full_trainings_are_unmeasured_and_without_candidates_random_ones_follow(
    toy, crash_explore, ranked_by
) -> None:
    strategy = SurrogateHyperband(problem(toy, 5), 0)  # 2 full trainings
    crash = (lambda s: True) if crash_explore else (lambda s: s.epochs == toy.max_epochs)
    seen = drive(strategy, toy, 5 * toy.max_epochs, crash=crash)
    _, full = split(seen.told, toy.max_epochs)
    report = strategy.diagnostics()["predictor"]
    assert len(full) == len(report["picks"]) == 2 and report["ranked_by"] == ranked_by
    assert all(p["measured"] is None for p in report["picks"])
    assert bool(report["candidates"]) is not crash_explore


def test_diagnostics_are_plain_json(toy) -> None:
    strategy = SurrogateHyperbandWarm(problem(toy, 5, prior=True), 0)
    drive(strategy, toy, 5 * toy.max_epochs)
    report = strategy.diagnostics()
    assert json.loads(json.dumps(report)) == report
    for entry in (*report["predictor"]["picks"], *report["predictor"]["candidates"]):
        assert type(entry["low_fidelity_value"]) is float and type(entry["predicted"]) is float
        assert type(entry["low_fidelity_epochs"]) is int


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fidelity_cap": 27}, r"fidelity_cap must lie in \[1, 27\)"),
        ({"explore_fraction": 1.0}, r"\[0, 1\)"),
    ],
)
def test_bad_parameters_are_refused_when_work_starts(toy, params, message) -> None:
    strategy = SurrogateHyperband(problem(toy, 5), 0, **params)
    with pytest.raises(ValueError, match=message):
        strategy.ask(5 * toy.max_epochs)


def test_curve_features_and_the_predictor_on_toy_curves(toy) -> None:
    last, best, slope, mean = curve_features([0.9, 0.5, 0.6, 0.4, 0.3, 0.2])
    assert (last, best, mean) == (0.2, 0.2, pytest.approx(2.9 / 6))
    assert slope == pytest.approx((0.2 - 0.4) / 2)  # over the last third
    assert math.isnan(curve_features([0.5])[2])  # one epoch has no slope
    predictor = CurvePredictor(toy.space, 0)
    prior = record_prior(toy, n=30)
    for curve in prior[:20]:
        predictor.add(curve.config, [1.0 - v for v in curve.curve])
    held_out = prior[20:]
    queries = [(c.config, [1.0 - v for v in c.curve[:3]]) for c in held_out]
    predicted = predictor.predict(queries)
    errors = [abs(p - (1.0 - c.curve[-1])) for p, c in zip(predicted, held_out, strict=True)]
    naive = [abs(c.curve[2] - c.curve[-1]) for c in held_out]  # the 3-epoch value as is
    assert sum(errors) < 0.5 * sum(naive)
    with pytest.raises(ValueError, match="no full-fidelity curve is longer than 27 epochs"):
        predictor.predict([(prior[0].config, [0.5] * 27)])
