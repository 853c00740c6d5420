"""The runner: spends a fixed epoch budget of one (strategy, seed) study and records every trial.

Data flow: the strategy *asks* for (config, epochs); the task evaluates it; the record goes to
the store and the result (without test metrics) is *told* back. The budget is the sum of the
epochs of every evaluation, crashed ones included, and is never exceeded.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from mfnas.spaces import config_seed, plain_config
from mfnas.store import Store, TrialRecord, incumbent
from mfnas.strategies import Problem, Strategy, TrialSpec, make_strategy
from mfnas.tasks.base import Result, Task


@dataclass(frozen=True)
class StudySummary:
    """What one (strategy, seed) study spent and found (validation only)."""

    strategy: str
    seed: int
    epochs_spent: int
    trials: int
    crashed: int
    best_val: float | None
    wall_seconds: float


def evaluate_trial(task: Task, spec: TrialSpec, seed: int) -> tuple[Result | None, str | None]:
    """Run one evaluation; exceptions and non-finite results become ``(None, error text)``."""
    try:
        result = task.evaluate(spec.config, spec.epochs, config_seed(spec.config, seed))
    except Exception as exc:  # a crashing trial is recorded, never fatal to the run
        last = traceback.format_exception_only(exc)[-1].strip()
        return None, last
    if len(result.curve) != spec.epochs:
        return None, f"task returned {len(result.curve)} curve points for {spec.epochs} epochs"
    if not result.is_finite():
        return None, "non-finite metric (diverged)"
    return result, None


def problem_for(task: Task, budget_epochs: int) -> Problem:
    """The strategy's view of ``task`` under a budget of ``budget_epochs``."""
    return Problem(task.space, task.min_epochs, task.max_epochs, budget_epochs, task.maximize)


def run_study(
    task: Task,
    strategy_name: str,
    seed: int,
    budget_epochs: int,
    store: Store,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> StudySummary:
    """Run one strategy with one seed until its budget or its proposals run out.

    Each finished trial is committed to ``store`` before the strategy hears of it, and then
    passed to ``on_trial`` (progress display). Evaluations run serially in this process.
    """
    strategy: Strategy = make_strategy(strategy_name, problem_for(task, budget_epochs), seed)
    spent, clock_start = 0, time.perf_counter()
    records: list[TrialRecord] = []
    while (spec := strategy.ask(budget_epochs - spent)) is not None:
        if spec.epochs > budget_epochs - spent or spec.epochs < 1:
            break  # a strategy that breaks its contract ends its own study, never the budget
        start = time.perf_counter() - clock_start
        result, error = evaluate_trial(task, spec, seed)
        end = time.perf_counter() - clock_start
        record = TrialRecord(
            strategy=strategy_name,
            seed=seed,
            trial_id=spec.trial_id,
            config=plain_config(spec.config),
            epochs=spec.epochs,
            curve=list(result.curve) if result else [],
            val=dict(result.val) if result else {},
            test=dict(result.test) if result and result.test is not None else None,
            status="ok" if result else "crashed",
            error=error,
            seconds=result.seconds if result else end - start,
            start=start,
            end=end,
            extra={**result.extra, "epoch_seconds": list(result.epoch_seconds)} if result else {},
        )
        store.add(record)
        records.append(record)
        spent += spec.epochs
        strategy.tell(spec, result.for_strategy() if result else None)
        if on_trial is not None:
            on_trial(record)
    best = incumbent(records, task.max_epochs, task.maximize)
    return StudySummary(
        strategy=strategy_name,
        seed=seed,
        epochs_spent=spent,
        trials=len(records),
        crashed=sum(r.status == "crashed" for r in records),
        best_val=best.curve[-1] if best else None,
        wall_seconds=time.perf_counter() - clock_start,
    )
