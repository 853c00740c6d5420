"""The runner: spends a fixed epoch budget of one (strategy, seed) study and records every trial.

Data flow: the strategy *asks* for (config, epochs); an executor evaluates it (in this process,
or on Dask workers, see ``mfnas.execution.executors``); the record goes to the store and the result
(without test metrics) is *told* back. Up to ``executor.slots`` trials are in flight; each is
told as it finishes, in any order. The budget is the sum of the epochs every evaluation trained,
crashed ones included: a trial that continues a configuration's earlier training pays only its
new epochs (``mfnas.execution.checkpoints``, decided when it is asked), and it starts only if
the epochs charged to the finished and in-flight trials plus its own fit, so the budget is
never exceeded (one exception: a resumed trial whose checkpoint went missing meanwhile
retrains from scratch, charged in full).

A budget in seconds (``budget_seconds``) bounds the study's clock instead (real seconds live;
the simulated clock in a replay, the strategy's decision time included): no trial starts at or
after it, and a trial still running then stops after the epoch that crosses it and is recorded
with the epochs it reached (``extra["asked_epochs"]`` keeps what was asked; the strategy, asked
nothing more, is told it as a failure). Strategies still plan in epochs: ``budget_epochs`` is
what the caller estimates the seconds afford on all its workers, and each ask is given the
epochs the seconds left afford on ``executor.slots`` workers at the study's own measured cost
per epoch (before its first trial ends, at that estimate's), less those in flight. A resumed
study replays each ask with the epochs it was given (kept in the record).

A resumed study is rebuilt from its records: the strategy, created again with its seed, is
asked each recorded trial again after as many tells as when it first proposed it, must propose
the same (config, epochs), and is told the recorded result. Trials it had asked that have no
record (in flight when the run stopped) run again first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mfnas.execution.checkpoints import Continuations, Plan
from mfnas.execution.executors import Executor, Outcome, SerialExecutor
from mfnas.replay.base import ReplayTask, label_candidates
from mfnas.spaces import plain_config
from mfnas.store import Status, Store, TrialRecord, incumbent
from mfnas.strategies import Problem, Strategy, TrialSpec, make_strategy
from mfnas.strategies.base import PriorCurve
from mfnas.tasks.base import Result, Task


class ResumeError(RuntimeError):
    """A stored study cannot be replayed: its strategy now proposes other trials."""


@dataclass(frozen=True)
class StudySummary:
    """What one (strategy, seed) study spent and found (validation only), resumed parts too.

    ``wall_seconds`` is the study clock when its last trial ended.
    """

    strategy: str
    seed: int
    epochs_spent: int
    trials: int
    crashed: int
    best_val: float | None
    wall_seconds: float


def problem_for(task: Task, budget_epochs: int, prior: tuple[PriorCurve, ...] = ()) -> Problem:
    """The strategy's view of ``task`` under a budget of ``budget_epochs`` (and ``prior``)."""
    return Problem(
        task.space, task.min_epochs, task.max_epochs, budget_epochs, task.maximize, prior
    )


@dataclass
class _Study:
    """A strategy and its bookkeeping: epochs charged (finished and in flight), tells made, the
    plan of every trial asked (from scratch or continuing), and with a budget in ``seconds``
    the study clock (``now() - clock_start``) and the epochs each ask was given."""

    strategy: Strategy
    budget: int
    continuations: Continuations
    seconds: float | None = None
    now: Callable[[], float] = lambda: 0.0
    slots: int = 1
    clock_start: float = 0.0
    committed: int = 0
    finished_epochs: int = 0  # charged to trials that ended
    finished_seconds: float = 0.0
    told: int = 0
    closed: bool = False  # the strategy broke its contract: it is asked nothing more
    replaying: bool = False  # a resumed study rebuilding itself from its records
    asked_after: dict[int, int] = field(default_factory=dict)
    plans: dict[int, Plan] = field(default_factory=dict)
    given: dict[int, int] = field(default_factory=dict)  # seconds budgets: each ask's epochs

    def elapsed(self) -> float:
        """Seconds on the study clock."""
        return self.now() - self.clock_start

    def out_of_time(self) -> bool:
        """True when a budget in seconds is spent (never while replaying: the records say)."""
        return self.seconds is not None and not self.replaying and self.elapsed() >= self.seconds

    def left(self) -> int:
        """The epochs the budget has left for new trials (see the module docstring)."""
        if self.seconds is None:
            return self.budget - self.committed
        if self.finished_epochs and self.finished_seconds > 0:
            rate = self.finished_seconds / self.finished_epochs
        else:
            rate = self.seconds / self.budget
        in_flight = self.committed - self.finished_epochs
        affordable = self.slots * (self.seconds - self.elapsed()) / rate
        return max(0, math.floor(affordable) - in_flight)

    def ask(self, given: int | None = None) -> TrialSpec | None:
        """The strategy's next trial within what is left of the budget, or None. A resumed
        seconds-budget study replays the epochs each ask was ``given``."""
        if self.closed or self.out_of_time():
            return None
        left = self.left() if given is None else given
        spec = self.strategy.ask(left)
        if spec is None:
            return None
        if not 1 <= spec.epochs <= self.strategy.problem.max_epochs or self.out_of_time():
            self.closed = True  # a broken contract, or the decision took the last seconds
            return None
        plan = self.continuations.plan(spec, check_files=not self.replaying)
        if spec.epochs - plan.continued_from > left:
            self.continuations.release(plan)
            self.closed = True
            return None
        self.plans[spec.trial_id] = plan
        self.committed += spec.epochs - plan.continued_from
        self.asked_after[spec.trial_id] = self.told
        if self.seconds is not None:
            self.given[spec.trial_id] = left
        return spec

    def settle(self, spec: TrialSpec, continued_from: int) -> None:
        """A replayed trial is charged what its record says it was (a checkpoint found
        missing then made it train from scratch; another cap may have kept more)."""
        plan = self.plans[spec.trial_id]
        self.committed += plan.continued_from - continued_from
        if plan.continued_from != continued_from:  # not run again: its charge and save matter
            self.plans[spec.trial_id] = Plan(save=plan.save)

    def replan(self, spec: TrialSpec) -> None:
        """Hold (or plan again, if its start's file is gone) a trial asked while replaying that
        has no record: it runs again. The checkpoint folder is reconciled by now."""
        plan = self.plans[spec.trial_id]
        if self.continuations.hold(plan):
            return
        self.committed -= spec.epochs - plan.continued_from
        plan = self.continuations.plan(spec)  # from scratch now; it may cost more
        self.plans[spec.trial_id] = plan
        self.committed += spec.epochs - plan.continued_from

    def tell(self, spec: TrialSpec, record: TrialRecord, result: Result | None) -> None:
        """Note the committed ``record`` (it may be continued now) and tell the strategy
        (a trial stopped by a seconds budget as a failure: it is not what was asked)."""
        plan = self.plans.pop(spec.trial_id)
        self.continuations.ended(spec, record, result, plan, files=not self.replaying)
        self.committed -= spec.epochs - record.epochs  # a trial stopped by a seconds budget
        self.finished_epochs += record.charged_epochs
        self.finished_seconds += record.seconds
        told = result.for_strategy() if result is not None else None
        self.strategy.tell(spec, told if told is None or told.epochs == spec.epochs else None)
        self.told += 1


def _record(strategy: str, seed: int, outcome: Outcome, study: _Study) -> TrialRecord:
    """The store's record of an ended evaluation; times on the study clock."""
    spec, result = outcome.spec, outcome.result
    plan, clock_start = study.plans[spec.trial_id], study.clock_start
    return TrialRecord(
        strategy=strategy,
        seed=seed,
        trial_id=spec.trial_id,
        config=plain_config(spec.config),
        epochs=result.epochs if result else spec.epochs,
        curve=list(result.curve) if result else [],
        val=dict(result.val) if result else {},
        test=dict(result.test) if result and result.test is not None else None,
        status=Status.OK if result else Status.CRASHED,
        error=outcome.error,
        seconds=result.seconds if result else outcome.end - outcome.start,
        start=outcome.start - clock_start,
        end=outcome.end - clock_start,
        extra=_extra(spec, result, study.given.get(spec.trial_id)),
        asked_after=study.asked_after[spec.trial_id],
        continued_from=plan.continued_from,
    )


def _extra(spec: TrialSpec, result: Result | None, given: int | None) -> dict:
    """A record's ``extra``: the result's, its per-epoch seconds, the epochs asked when a
    seconds budget stopped it before them, and under such a budget the epochs its ask was
    given (``budget_left``, what a resume replays)."""
    asked = {} if given is None else {"budget_left": given}
    if result is None:
        return asked
    if result.epochs < spec.epochs:
        asked["asked_epochs"] = spec.epochs
    return {**result.extra, "epoch_seconds": list(result.epoch_seconds), **asked}


_BOOKKEEPING = ("epoch_seconds", "asked_epochs", "budget_left")  # the runner's, not the task's


def _asked(record: TrialRecord) -> int:
    """The epochs the strategy asked for in ``record``'s trial."""
    return int(record.extra.get("asked_epochs", record.epochs))


def told_result(record: TrialRecord) -> Result | None:
    """What the strategy was told of a record (None when it crashed), its state aside: also
    the start of a training that continues it."""
    if record.status is Status.CRASHED:
        return None
    extra = {k: v for k, v in record.extra.items() if k not in _BOOKKEEPING}
    return Result(
        curve=tuple(record.curve),
        val=dict(record.val),
        test=None,
        seconds=record.seconds,
        epochs=record.epochs,
        epoch_seconds=tuple(record.extra.get("epoch_seconds", ())),
        extra=extra,
        continued_from=record.continued_from,
    )


def _replay(study: _Study, history: Sequence[TrialRecord]) -> list[TrialSpec]:
    """Rebuild ``study`` from ``history`` (records in store order, the order they were told).

    Returns the trials asked again that have no record, to run first (planned again once the
    checkpoint folder is reconciled). Raises ResumeError when the strategy proposes anything
    else than it did.
    """
    name, seed = study.strategy.name, study.strategy.seed
    if any(r.asked_after is None for r in history):
        raise ResumeError(f"cannot resume {name} seed {seed}: the store predates resumable runs")
    specs: dict[int, TrialSpec] = {}
    lost: list[TrialSpec] = []

    def tell_until(count: int) -> None:
        while study.told < count:
            record = history[study.told]
            study.tell(specs[record.trial_id], record, told_result(record))

    study.replaying = True

    for record in sorted(history, key=lambda r: r.trial_id):
        tell_until(record.asked_after)
        given = record.extra.get("budget_left")  # a lost trial before it: about as much
        while (spec := study.ask(given)) is not None and spec.trial_id < record.trial_id:
            lost.append(spec)
        if spec is None or (spec.trial_id, spec.epochs, plain_config(spec.config)) != (
            record.trial_id,
            _asked(record),
            record.config,
        ):
            proposed = "nothing" if spec is None else f"{spec.epochs} epochs of another config"
            raise ResumeError(
                f"cannot resume {name} seed {seed}: trial {record.trial_id} was "
                f"{_asked(record)} epochs of {record.config}, the strategy now proposes "
                f"{proposed}; is it deterministic?"
            )
        study.settle(spec, record.continued_from)
        specs[spec.trial_id] = spec
    tell_until(len(history))
    study.replaying = False
    study.continuations.reconcile(keep=[study.plans[spec.trial_id] for spec in lost])
    for spec in lost:
        study.replan(spec)
    return lost


def _summary(task: Task, name: str, seed: int, records: list[TrialRecord]) -> StudySummary:
    best = incumbent(records, task.max_epochs, task.direction)
    return StudySummary(
        strategy=name,
        seed=seed,
        epochs_spent=sum(r.charged_epochs for r in records),
        trials=len(records),
        crashed=sum(r.status is Status.CRASHED for r in records),
        best_val=best.curve[-1] if best else None,
        wall_seconds=max((r.end for r in records), default=0.0),
    )


def _diagnostics(
    task: Task, strategy: Strategy, prior: tuple[PriorCurve, ...], continuations: Continuations
) -> dict:
    """What is stored with a finished study: the strategy's own diagnostics, how many prior
    curves it was given, what continuation did (trials continued; live, checkpoints written,
    evicted and the most bytes the kept ones held at once), and, in a replay, the true full-fidelity
    objective of every candidate its predictor ranked (``candidates[i]["truth"]``), looked up
    only after the study ended."""
    info = dict(strategy.diagnostics())
    if continuations.enabled:
        info["continuation"] = dict(continuations.stats)
    if prior:
        info["prior_curves"] = len(prior)
    candidates = info.get("predictor", {}).get("candidates")
    if isinstance(task, ReplayTask) and candidates:
        label_candidates(task, candidates)
    return info


def run_study(
    task: Task,
    strategy_name: str,
    seed: int,
    budget_epochs: int,
    store: Store,
    on_trial: Callable[[TrialRecord], None] | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    prior: tuple[PriorCurve, ...] = (),
    continuation: bool = True,
    checkpoints: Path | None = None,
    checkpoint_bytes: int | None = None,
    budget_seconds: float | None = None,
) -> StudySummary:
    """Run one strategy with one seed until its budget or its proposals run out.

    Each finished trial is committed to ``store`` before the strategy hears of it, and then
    passed to ``on_trial`` (progress display); the study is then marked finished in the store.
    ``executor`` evaluates ``task`` (default: serially in this process). With ``resume``, the
    study continues from its records in ``store`` (a finished one is not run again); the study
    clock goes on from its last recorded end. ``prior`` is the recorded curves the strategy
    may read (``Problem.prior``; give them only to strategies that use them).
    With ``continuation``, a configuration asked again at more epochs continues its earlier
    training: for free of files in a replay; for a live task only with ``checkpoints``, the
    folder of this study's checkpoint files (held under ``checkpoint_bytes``; emptied when the
    study ends), else from scratch. With ``budget_seconds``, the study clock bounds the study
    and ``budget_epochs`` is only what its strategy plans with (the module docstring).
    Raises ResumeError when the replay diverges, and lets a task's DataError through (no
    usable data: the run cannot go on).
    """
    executor = executor or SerialExecutor(task)
    records = store.records(strategy_name, seed) if resume else []
    replay = isinstance(task, ReplayTask)
    continuations = Continuations(
        task.max_epochs,
        enabled=continuation and (replay or checkpoints is not None),
        folder=None if replay else checkpoints,
        cap_bytes=checkpoint_bytes,
    )
    if resume and store.is_finished(strategy_name, seed):
        continuations.close()  # what a stop right after the study ended left behind
        return _summary(task, strategy_name, seed, records)
    if continuations.folder is not None:
        continuations.folder.mkdir(parents=True, exist_ok=True)
    strategy = make_strategy(strategy_name, problem_for(task, budget_epochs, prior), seed)
    study = _Study(
        strategy, budget_epochs, continuations, budget_seconds, executor.now, executor.slots
    )
    backlog = deque(_replay(study, records))
    # the clock goes on from the last recorded end, the replay's own time left out
    study.clock_start = executor.now() - max((r.end for r in records), default=0.0)
    stop_at = None if budget_seconds is None else study.clock_start + budget_seconds
    running = 0
    while True:
        while running < executor.slots and not study.out_of_time():
            spec = backlog.popleft() if backlog else study.ask()
            if spec is None:
                break  # nothing to run now: wait for a result, or end when none is in flight
            executor.submit(spec, seed, study.plans[spec.trial_id], stop_at)
            running += 1
        if not running:
            break
        for outcome in executor.wait():
            running -= 1
            spec = outcome.spec
            record = _record(strategy_name, seed, outcome, study)
            store.add(record)
            records.append(record)
            study.tell(spec, record, outcome.result)
            if on_trial is not None:
                on_trial(record)
    diagnostics = _diagnostics(task, strategy, prior, continuations)
    store.finish_study(strategy_name, seed, diagnostics)
    continuations.close()
    return _summary(task, strategy_name, seed, records)
