"""``surrogate-hb``, the suite's own method, and its two variants.

Three phases:

1. Explore: an inner ``smac-hb`` (SMAC + Hyperband, eta 3) over [min_epochs, fidelity_cap]
   (default ``max_epochs // 3``: rungs 1, 3, 9 of 27) spends the first stage of
   ``split_budget(problem, explore_fraction)``. Each configuration's highest-fidelity ok result
   is a candidate; crashed trials are none.
2. Predict: a ``CurvePredictor`` (XGBoost) estimates each candidate's full-fidelity cost from
   its configuration and its partial curve. It learns from this run's full trainings (and, for
   ``-warm``, the recorded curves of ``problem.prior``), whose prefixes stand for shorter ones.
   While it has fewer than ``min_full_configs`` full curves, candidates are ranked by their
   low-fidelity score instead: the higher rung first, then the lower cost.
3. Finish: once every explore trial is told, the best candidate not yet picked is trained for
   ``max_epochs``, re-ranking (and refitting) before each pick, for as long as ``budget_left``
   affords a full training: the budget the first stage left over goes to full trainings too.

The incumbent thus comes from full trainings only. ``diagnostics()`` reports the picks, the
last ranking of all candidates and how well predictions matched the measured results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

from ConfigSpace import Configuration
from scipy import stats

from mfnas.spaces import config_key, plain_config
from mfnas.strategies.base import Problem, Strategy, TrialSpec
from mfnas.strategies.budget import StagedBudget, split_budget
from mfnas.strategies.curve_predictor import CurvePredictor
from mfnas.strategies.smac_hb import SmacHyperband
from mfnas.tasks.base import Result


@dataclass(frozen=True)
class _Candidate:
    """A configuration's highest-fidelity explore result (its validation curve)."""

    key: str
    trial_id: int
    config: Configuration
    curve: tuple[float, ...]

    @property
    def epochs(self) -> int:
        return len(self.curve)


@dataclass
class _Pick:
    """A full training the strategy chose: the candidate it came from (None for a random
    configuration when there was none), the method that ranked it, the predicted and, once
    told, the measured full-fidelity value (None when it crashed or is pending)."""

    config: Configuration
    ranked_by: str
    candidate: _Candidate | None = None
    predicted: float | None = None
    measured: float | None = None


class SurrogateHyperband(Strategy):
    """Explore with SMAC + Hyperband at low fidelity, predict, fully train the best few.

    ``explore_fraction`` (in [0, 1)) is the explore share of the budget, ``fidelity_cap`` the
    highest explore fidelity (in [min_epochs, max_epochs); default ``max(min_epochs,
    max_epochs // 3)``); both are checked at the first ask (ValueError). The budget left after
    exploring goes to full trainings, at least one (a budget of one full training explores
    nothing); when no candidate is left before any full training succeeded, a random
    configuration is trained instead. A strategy that ``uses_prior`` raises ValueError for a
    problem without one. Same seed, same trials: the inner SMAC is seeded alike
    (across processes, it also needs the same ``PYTHONHASHSEED``; see ``SmacStrategy``).
    """

    name = "surrogate-hb"
    use_predictor: ClassVar[bool] = True
    # Full-fidelity curves needed before XGBoost ranks. With fewer, each per-rung model has a
    # handful of rows and ranks worse than the low-fidelity score (on toy, 4-6 random curves:
    # Spearman to the final value 0.67-0.73 against 0.79 for the last value; from 10 it wins).
    # The run's own curves are its best candidates, and ranking by XGBoost from the 6th full
    # result on found better incumbents on toy than from the 4th or never (6 seeds, 16 full
    # trainings' budget). With the default split, budgets under 14 full trainings never get
    # there: only ``-warm`` then ranks by XGBoost.
    min_full_configs: ClassVar[int] = 6

    def __init__(
        self,
        problem: Problem,
        seed: int,
        explore_fraction: float = 0.5,
        fidelity_cap: int | None = None,
    ) -> None:
        if self.uses_prior and not problem.prior:
            raise ValueError(f"{self.name} needs recorded curves of the task (problem.prior)")
        super().__init__(problem, seed)
        self.explore_fraction = explore_fraction
        self.fidelity_cap = (
            fidelity_cap
            if fidelity_cap is not None
            else max(problem.min_epochs, problem.max_epochs // 3)
        )
        self._explore_pending: dict[int, TrialSpec] = {}  # our trial id -> the explorer's spec
        self._explore_spent = 0
        self._explore_done = False
        self._candidates: dict[str, _Candidate] = {}
        self._picks: list[_Pick] = []
        self._full_pending: dict[int, _Pick] = {}
        self._ranking: list[tuple[_Candidate, float | None]] = []

    @cached_property
    def plan(self) -> StagedBudget:
        """The budget split: ``first_epochs`` to explore, the rest to full trainings."""
        return split_budget(self.problem, self.explore_fraction)

    @cached_property
    def explorer(self) -> SmacHyperband | None:
        """The inner ``smac-hb`` over [min_epochs, fidelity_cap] on the explore budget; None
        when that budget cannot pay for one low-fidelity training or the task has only one
        fidelity."""
        problem = self.problem
        if problem.min_epochs == problem.max_epochs:
            return None  # one fidelity only: nothing lower to explore at
        if not problem.min_epochs <= self.fidelity_cap < problem.max_epochs:
            raise ValueError(
                f"fidelity_cap must lie in [{problem.min_epochs}, {problem.max_epochs}), "
                f"got {self.fidelity_cap}"
            )
        if self.plan.first_epochs < problem.min_epochs:
            return None
        inner = replace(
            problem, max_epochs=self.fidelity_cap, budget_epochs=self.plan.first_epochs, prior=()
        )
        return SmacHyperband(inner, self.seed)

    @cached_property
    def _prior(self) -> list[tuple[dict[str, Any], tuple[float, ...]]]:
        """The recorded curves the predictor starts from, as (active values, costs of epochs
        1..max_epochs): only for a strategy that ``uses_prior``, and only curves that reach
        ``max_epochs`` with a finite value there."""
        if not self.uses_prior:
            return []
        n = self.problem.max_epochs
        return [
            (dict(prior.config), self._costs(prior.curve[:n]))
            for prior in self.problem.prior
            if len(prior.curve) >= n and math.isfinite(prior.curve[n - 1])
        ]

    @cached_property
    def predictor(self) -> CurvePredictor | None:
        """The full-fidelity predictor (with the prior's curves), None when not used."""
        if not self.use_predictor:
            return None
        predictor = CurvePredictor(self.problem.space, self.seed)
        for values, costs in self._prior:
            predictor.add(values, costs)
        return predictor

    def _costs(self, curve: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(self.value_cost(v) for v in curve)

    def ask(self, budget_left: int) -> TrialSpec | None:
        if not self._explore_done:
            spec = self._explore(budget_left)
            if spec is not None:
                return spec
            self._explore_done = True  # its budget only shrinks: nothing will fit later
        if self._explore_pending or budget_left < self.problem.max_epochs:
            return None  # candidates are ranked once every explore result is in
        pick = self._next_pick()
        if pick is None:
            return None
        spec = self._spec(pick.config, self.problem.max_epochs)
        self._picks.append(pick)
        self._full_pending[spec.trial_id] = pick
        return spec

    def _explore(self, budget_left: int) -> TrialSpec | None:
        """The explorer's next trial under our id, keeping one full training affordable."""
        explorer = self.explorer
        if explorer is None:
            return None
        left = min(
            self.plan.first_epochs - self._explore_spent, budget_left - self.problem.max_epochs
        )
        inner = explorer.ask(max(0, left))
        if inner is None:
            return None
        spec = self._spec(inner.config, inner.epochs)
        self._explore_pending[spec.trial_id] = inner
        self._explore_spent += spec.epochs
        return spec

    def tell(self, spec: TrialSpec, result: Result | None) -> None:
        if spec.trial_id in self._explore_pending:
            self.explorer.tell(self._explore_pending.pop(spec.trial_id), result)
            if result is not None:
                self._add_candidate(spec, result)
            return
        pick = self._full_pending.pop(spec.trial_id)
        if result is None:
            return
        pick.measured = result.objective
        if self.predictor is not None:
            self.predictor.add(plain_config(spec.config), self._costs(result.curve))

    def _add_candidate(self, spec: TrialSpec, result: Result) -> None:
        """Keep each configuration's highest-fidelity result (the first one among equals)."""
        key = config_key(spec.config)
        known = self._candidates.get(key)
        if known is None or spec.epochs > known.epochs:
            self._candidates[key] = _Candidate(key, spec.trial_id, spec.config, result.curve)

    def _rank(self) -> str:
        """Rank every candidate into ``self._ranking`` (best first, with its predicted cost or
        None) and return the method: ``xgboost`` once the predictor has ``min_full_configs``
        curves, else ``low-fidelity``, which also breaks the predictor's ties."""
        candidates = sorted(
            self._candidates.values(),
            key=lambda c: (-c.epochs, self.value_cost(c.curve[-1]), c.trial_id),
        )
        predictor = self.predictor
        if predictor is None or predictor.n_curves < self.min_full_configs or not candidates:
            self._ranking = [(c, None) for c in candidates]
            return "low-fidelity"
        queries = [(plain_config(c.config), self._costs(c.curve)) for c in candidates]
        predicted = predictor.predict(queries)
        self._ranking = sorted(zip(candidates, predicted, strict=True), key=lambda pair: pair[1])
        return "xgboost"

    def _next_pick(self) -> _Pick | None:
        """The best-ranked candidate not picked yet; a random configuration when none is left
        and no full training has succeeded or is pending; else None."""
        method = self._rank()
        picked = {config_key(p.config) for p in self._picks}
        for candidate, predicted in self._ranking:
            if candidate.key not in picked:
                return _Pick(candidate.config, method, candidate, predicted)
        if self._full_pending or any(p.measured is not None for p in self._picks):
            return None
        return _Pick(self._sample(), "random")

    def _value(self, cost: float | None) -> float | None:
        """A cost back as an objective value (``value_cost`` is its own inverse)."""
        return None if cost is None else float(self.value_cost(cost))

    def diagnostics(self) -> dict[str, Any]:
        """The predictor's record: ``picks`` (every full training in pick order: config,
        ranking method, low-fidelity epochs and value, predicted and measured full-fidelity
        value, null where none), ``candidates`` (the last ranking, best first, of every
        candidate, with whether it was picked), ``spearman`` (predicted vs measured over the
        picks having both; null for fewer than 3 or a constant side), ``top1_hit`` (whether
        the best-predicted of those picks measured best; null for fewer than 2), ``used``
        and ``ranked_by`` (the methods of the picks in order); ``prior_curves`` (how many
        recorded curves it learned from) and ``explore_epochs``. Values, not costs."""
        picked = {config_key(p.config) for p in self._picks}
        scored = [
            (p.predicted, self.value_cost(p.measured))
            for p in self._picks
            if p.predicted is not None and p.measured is not None
        ]
        methods = list(dict.fromkeys(p.ranked_by for p in self._picks))
        return {
            "predictor": {
                "used": "xgboost" in methods,
                "ranked_by": ", then ".join(methods) if methods else None,
                "picks": [
                    {
                        "config": plain_config(p.config),
                        "ranked_by": p.ranked_by,
                        **self._low_fidelity(p.candidate),
                        "predicted": self._value(p.predicted),
                        "measured": p.measured,
                    }
                    for p in self._picks
                ],
                "candidates": [
                    {
                        "config": plain_config(c.config),
                        **self._low_fidelity(c),
                        "predicted": self._value(predicted),
                        "picked": c.key in picked,
                    }
                    for c, predicted in self._ranking
                ],
                "spearman": _spearman(scored),
                "top1_hit": _top1_hit(scored),
            },
            "prior_curves": len(self._prior),
            "explore_epochs": self._explore_spent,
        }

    def _low_fidelity(self, candidate: _Candidate | None) -> dict[str, Any]:
        return {
            "low_fidelity_epochs": candidate.epochs if candidate else None,
            "low_fidelity_value": candidate.curve[-1] if candidate else None,
        }


def _spearman(scored: list[tuple[float, float]]) -> float | None:
    """Spearman's rank correlation of (predicted, measured) pairs; None when undefined."""
    if len(scored) < 3:
        return None
    rho = float(stats.spearmanr(*zip(*scored, strict=True)).statistic)
    return rho if math.isfinite(rho) else None


def _top1_hit(scored: list[tuple[float, float]]) -> bool | None:
    """Whether the pair with the lowest predicted cost has the lowest measured cost."""
    if len(scored) < 2:
        return None
    best_predicted = min(scored, key=lambda pair: pair[0])
    return best_predicted[1] == min(measured for _, measured in scored)


class SurrogateHyperbandNoPredictor(SurrogateHyperband):
    """``surrogate-hb-nopred``: the same pipeline ranking by the low-fidelity score only (the
    ablation that shows what the predictor adds)."""

    name = "surrogate-hb-nopred"
    use_predictor = False


class SurrogateHyperbandWarm(SurrogateHyperband):
    """``surrogate-hb-warm``: the predictor starts from the task's recorded curves
    (``problem.prior``, validation only), so it ranks from the first pick.

    Raises ValueError when the problem has no prior.
    """

    name = "surrogate-hb-warm"
    uses_prior = True
    min_full_configs = 1
