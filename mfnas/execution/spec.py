"""What a run is: a frozen ``RunSpec`` (what is compared, under which budget) and separate
``ExecutionOptions`` (where and how fast the evaluations run).

The spec decides the results: the same spec gives the same trials and the same leaderboard.
It is saved once in the run's ``run.json`` and, on ``--resume``, loaded back and compared with
what was given. Execution options may change between a run and its resume: they change how
long it takes, never what it finds (``--threads`` aside: torch's CPU results depend on it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from mfnas.execution.checkpoints import DEFAULT_CHECKPOINT_MB
from mfnas.replay.modes import MODES
from mfnas.replay.table import TableError
from mfnas.strategies import STRATEGIES, installed, missing_extra_message
from mfnas.tasks import TASKS
from mfnas.tasks.device import check_device

DEFAULT_BUDGET, DEFAULT_SEEDS = 5, 3
#: The default comparison: random search against SMAC's model-based Hyperband. Every registered
#: strategy (``--strategies all``) on live recsys takes hours on 2 CPU cores; see the README.
DEFAULT_STRATEGIES = ("random", "smac-hb")
#: The largest budget (full trainings per strategy and seed) and seed count a run may ask
#: for: strategies plan their rungs and designs up front, and far beyond these they run out of
#: memory before the first trial.
MAX_BUDGET, MAX_SEEDS = 10_000, 1_000
MAX_BUDGET_SECONDS = 30 * 24 * 3600  # a month per study
#: Run arguments a run.json written before they existed lacks, as those runs had them (every
#: evaluation then trained from scratch).
_OLD_DEFAULTS: dict[str, Any] = {
    "mode": "live",
    "replay_from": None,
    "continuation": False,
    "budget_seconds": None,
}


class SpecError(ValueError):
    """Run arguments that do not make a run; the message is one line naming the problem."""


@dataclass(frozen=True)
class RunSpec:
    """One run: ``strategies`` each search ``task`` once per seed ``0..seeds-1``, spending
    ``budget`` full trainings' worth of epochs (``budget * max_epochs``, the epochs every
    evaluation trained). ``max_epochs`` is the full fidelity (None: the task's own); ``space`` a
    ConfigSpace YAML file searched instead of the task's (live runs only); ``mode`` one of
    ``MODES``; ``replay_from`` the recording or surrogate a replay reads (None: the task's own).
    With ``continuation``, a configuration asked again at more epochs continues its training
    and pays only the new epochs (``mfnas.execution.checkpoints``); without, it retrains.
    ``budget_seconds`` instead of ``budget`` (which is then None) bounds each study by its clock
    (``mfnas.execution.runner``).

    Construction validates every field and raises SpecError.
    """

    task: str
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    budget: int | None = DEFAULT_BUDGET
    seeds: int = DEFAULT_SEEDS
    max_epochs: int | None = None
    space: str | None = None
    mode: str = "live"
    replay_from: str | None = None
    continuation: bool = True
    budget_seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", tuple(self.strategies))
        if self.task not in TASKS:
            raise SpecError(f"unknown task {self.task!r}; choose from {', '.join(TASKS)}")
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or not self.strategies:
            raise SpecError(
                f"unknown strategy {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(STRATEGIES)}"
            )
        missing = [s for s in self.strategies if not installed(s)]
        if missing:
            raise SpecError(missing_extra_message(missing[0]))
        for name in ("budget", "seeds", "max_epochs"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise SpecError(f"{name} must be a positive integer, got {value!r}")
        for name, most in (("budget", MAX_BUDGET), ("seeds", MAX_SEEDS)):
            if (getattr(self, name) or 0) > most:
                raise SpecError(f"{name} must be at most {most:,}, got {getattr(self, name):,}")
        if (self.budget is None) == (self.budget_seconds is None):
            raise SpecError("give a budget in full trainings or in seconds, one of the two")
        seconds = self.budget_seconds
        if seconds is not None and not (
            isinstance(seconds, int | float) and 0 < seconds <= MAX_BUDGET_SECONDS
        ):
            raise SpecError(
                f"budget_seconds must be a number of seconds in (0, {MAX_BUDGET_SECONDS:,}], "
                f"got {seconds!r}"
            )
        if not isinstance(self.continuation, bool):
            raise SpecError(f"continuation must be on or off, got {self.continuation!r}")
        if self.mode not in MODES:
            raise SpecError(f"unknown mode {self.mode!r}; choose from {', '.join(MODES)}")
        try:
            MODES[self.mode].check(self.replay_from, self.space)
        except ValueError as exc:
            raise SpecError(str(exc)) from None

    @property
    def wants_prior(self) -> bool:
        """True when a strategy of the run reads recorded curves (``Strategy.uses_prior``)."""
        return any(STRATEGIES[name].uses_prior for name in self.strategies)

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON values (what ``run.json`` keeps under ``spec``)."""
        return {**asdict(self), "strategies": list(self.strategies)}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> RunSpec:
        """The spec ``to_json`` gave, or the ``arguments`` of a run.json written before run
        specs existed (other keys there are ignored). Raises SpecError."""
        names = [f.name for f in fields(cls)]
        try:
            return cls(**{name: {**_OLD_DEFAULTS, **values}[name] for name in names})
        except (KeyError, TypeError) as exc:
            raise SpecError(f"not a run spec: {exc}") from None

    def differences(self, given: dict[str, Any]) -> list[str]:
        """The fields ``given`` sets (not None) to another value than this spec's."""
        own = self.to_json()
        return [
            name
            for name, value in given.items()
            if value is not None and (list(value) if name == "strategies" else value) != own[name]
        ]

    def command(self, out: str) -> str:
        """The ``python -m mfnas.bench`` command that runs this spec into ``out``."""
        import shlex

        argv = ["--task", self.task, "--strategies", ",".join(self.strategies)]
        if self.budget_seconds is not None:
            argv += ["--budget-seconds", f"{self.budget_seconds:.15g}"]
        else:
            argv += ["--budget", str(self.budget)]
        argv += ["--seeds", str(self.seeds), "--mode", self.mode]
        for name in ("max_epochs", "space", "replay_from"):
            if getattr(self, name) is not None:
                argv += [f"--{name.replace('_', '-')}", str(getattr(self, name))]
        if not self.continuation:
            argv += ["--continuation", "off"]
        return shlex.join(["python", "-m", "mfnas.bench", *argv, "--out", out])


def all_strategies(task: str, mode: str = "live", replay_from: str | None = None) -> list[str]:
    """Every installed strategy, less those needing a prior when ``task`` has no recorded
    benchmark to give them (both said on stderr)."""
    import sys

    names = STRATEGIES.installed_names()
    absent = [name for name in STRATEGIES if name not in names]
    if absent:
        extras = sorted({STRATEGIES.extra_of(name) for name in absent})
        print(f"note: {', '.join(absent)} left out: not installed "
              f'(pip install "mfnas[{",".join(extras)}]")', file=sys.stderr)  # fmt: skip
    try:
        MODES[mode].prior_folder(task, replay_from)
    except TableError:
        needy = [name for name in names if STRATEGIES[name].uses_prior]
        if needy:
            print(f"note: {', '.join(needy)} left out: they need recorded curves of {task} "
                  "(python -m mfnas.collect)", file=sys.stderr)  # fmt: skip
        return [name for name in names if name not in needy]
    return names


@dataclass(frozen=True)
class ExecutionOptions:
    """How a run's evaluations run: ``workers`` at once (None: 1; more than 1 starts a local
    Dask cluster; in a replay, simulated workers), on the Dask cluster at ``scheduler``, with
    ``threads`` torch threads in this process, cancelled after ``trial_timeout`` seconds, on
    ``device``, reading data from ``data_dir``, keeping at most ``checkpoint_mb`` megabytes of
    checkpoints (live runs with continuation; a smaller cap retrains more, the results stay);
    writing every trial's curves to TensorBoard under ``tensorboard`` (a folder; None: not);
    ``quiet`` hides the progress bar."""

    workers: int | None = None
    scheduler: str | None = None
    threads: int | None = None
    trial_timeout: float | None = None
    device: str = "auto"
    data_dir: str | None = None
    checkpoint_mb: float = DEFAULT_CHECKPOINT_MB
    tensorboard: str | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.checkpoint_mb, int | float) or not self.checkpoint_mb >= 0:
            raise SpecError(f"checkpoint_mb must be a number >= 0, got {self.checkpoint_mb!r}")
        try:  # a device that is not there is refused before any work, whatever the task
            check_device(self.device)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        if self.threads is not None and (
            self.scheduler is not None or self.trial_timeout is not None or (self.workers or 1) > 1
        ):
            raise SpecError("--threads is for evaluations in this process; Dask workers use 1 each")

    def to_json(self) -> dict[str, Any]:
        """The options as plain JSON values (what ``run.json`` keeps under ``options``)."""
        return asdict(self)

    @property
    def checkpoint_bytes(self) -> int:
        """``checkpoint_mb`` in bytes."""
        return int(self.checkpoint_mb * 2**20)
