"""The run modes, as registered objects: ``live`` trains every evaluation; ``tabular`` and
``surrogate`` replay recorded learning curves on a simulated clock.

A mode knows everything that differs between them, so nothing else branches on a mode's name:
which run arguments it accepts (``check``), where its data lives (``folder``), how it builds
the task a run evaluates and the prior given to strategies that use one (``setup``), whether
its evaluations run on a simulated clock (``simulated``), whether regret is defined
(``has_regret``), and the sentence the leaderboard prints about it (``note``).

Prior curves (``Problem.prior``) always come from a recorded benchmark of the task. In a
tabular replay that benchmark is also what answers the evaluations, so it is split by id: the
even half answers every strategy and the odd half is the prior, and no strategy is scored on
the curves it was warm-started with.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from mfnas.replay.base import ReplayTask
from mfnas.replay.table import TABLE, TableError, read_table
from mfnas.tasks.base import Task

if TYPE_CHECKING:
    from mfnas.strategies.base import PriorCurve

_PACKAGE = Path(__file__).resolve().parent.parent
#: Where recorded benchmarks and surrogates lie: in an installed wheel, under the package;
#: in a source checkout, at its top.
_SHIPPED = (_PACKAGE / "recorded", _PACKAGE.parent)
_EVEN, _ODD = slice(0, None, 2), slice(1, None, 2)


@dataclass(frozen=True)
class Setup:
    """What a run works on: the task it evaluates, what its replay reads (``None`` for a live
    run without prior; stored in the run's metadata), and the prior curves for strategies that
    use one."""

    task: Task
    replay: dict[str, Any] | None
    prior: tuple[PriorCurve, ...]


def load_prior(folder: Path, ids: slice | None = None) -> tuple[PriorCurve, ...]:
    """The validation curves of the ok recordings in the benchmark ``folder`` (never test
    metrics), optionally only those in the ``ids`` slice of the id-sorted table."""
    from mfnas.strategies.base import PriorCurve  # loads every strategy: only when asked

    recordings = sorted(read_table(folder / TABLE)[0], key=lambda r: r.id)
    chosen = recordings[ids] if ids is not None else recordings
    return tuple(PriorCurve(r.config, r.curve) for r in chosen if r.ok)


def _find(root: str, task: str, given: str | Path | None, maker: str, kind: str) -> Path:
    """``given``, else ``<root>/<task>`` under the working directory, else where mfnas ships it
    (``_SHIPPED``); TableError naming the first candidate and how to make it when none exists."""
    relative = Path(root) / task
    candidates = (
        [Path(given)]
        if given is not None
        else [relative] + [place / relative for place in _SHIPPED]
    )
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise TableError(
        f"{candidates[0]}: no {kind} benchmark of {task!r} there; make it with {maker}"
    )


def recorded_benchmark(task: str, given: str | Path | None = None) -> Path:
    """The folder of ``task``'s recorded learning curves (``python -m mfnas.collect``)."""
    return _find("benchmarks", task, given, "python -m mfnas.collect", "tabular")


class Mode(ABC):
    """One way of answering a run's evaluations (see the module docstring)."""

    name: ClassVar[str]
    simulated: ClassVar[bool]  # evaluations answered in milliseconds on a simulated clock
    has_regret: ClassVar[bool] = False  # the best and worst achievable test scores are known

    @abstractmethod
    def check(self, replay_from: str | None, space: str | None) -> None:
        """Raise ValueError for run arguments this mode does not take."""

    def prior_folder(self, task: str, replay_from: str | None) -> Path:
        """The recorded benchmark that prior curves come from (TableError when none exists)."""
        return recorded_benchmark(task)

    @abstractmethod
    def setup(
        self,
        task: str,
        replay_from: str | None,
        max_epochs: int | None,
        wants_prior: bool,
        live: Callable[[], Task],
    ) -> Setup:
        """The run's task (``live()`` builds the trained one), its replay record and prior.

        Raises TableError (or another ValueError) when the data it reads is missing or does
        not suit the arguments.
        """

    @abstractmethod
    def note(self, meta: dict[str, Any]) -> str:
        """One paragraph for the leaderboard: how this run's numbers were produced."""

    @staticmethod
    def _prior_note(replay: dict[str, Any]) -> str:
        return (
            f" Prior data: {replay['prior']} (validation curves only)." if "prior" in replay else ""
        )


class LiveMode(Mode):
    """Every evaluation trains the task's model; prior curves come from its recording."""

    name, simulated = "live", False

    def check(self, replay_from: str | None, space: str | None) -> None:
        if replay_from is not None:
            raise ValueError("--replay-from needs --mode tabular or --mode surrogate")

    def setup(self, task, replay_from, max_epochs, wants_prior, live) -> Setup:
        built = live()
        if not wants_prior:
            return Setup(built, None, ())
        folder = self.prior_folder(task, replay_from)
        prior = load_prior(folder)
        return Setup(built, {"prior": f"{len(prior)} recorded curves from {folder}"}, prior)

    def note(self, meta: dict[str, Any]) -> str:
        prior = self._prior_note(meta.get("replay") or {})
        return f"Mode: live: every evaluation trained; `wall_seconds` are real seconds.{prior}"


class _ReplayMode(Mode):
    """A replay of recorded curves: the recorded space and fidelity, a simulated clock."""

    simulated = True
    kind: ClassVar[str]  # what answers the evaluations, for the leaderboard note
    halves: ClassVar[bool] = False  # its answers are the prior's benchmark: split it by id
    prior_caveat: ClassVar[str] = ""  # what the leaderboard should know about the prior

    def check(self, replay_from: str | None, space: str | None) -> None:
        if space is not None:
            raise ValueError(
                f"--space is for live runs; --mode {self.name} searches the recorded space"
            )

    @abstractmethod
    def _replay_task(self, folder: Path, ids: slice | None) -> ReplayTask:
        """The replay task reading ``folder`` (only the recordings in ``ids`` where given)."""

    @abstractmethod
    def folder(self, task: str, replay_from: str | None) -> Path:
        """Where this mode's data for ``task`` lives (TableError when it does not exist)."""

    def setup(self, task, replay_from, max_epochs, wants_prior, live) -> Setup:
        folder = self.folder(task, replay_from)
        halved = wants_prior and self.halves
        replay_task = self._replay_task(folder, _EVEN if halved else None)
        if replay_task.name != task:
            raise ValueError(f"{folder} replays task {replay_task.name!r}, not {task!r}")
        if max_epochs is not None and max_epochs != replay_task.max_epochs:
            raise ValueError(
                f"--max-epochs {max_epochs} differs from the {replay_task.max_epochs} epochs "
                f"recorded in {folder}; a replay keeps the recorded fidelity"
            )
        replay: dict[str, Any] = {"mode": self.name, "source": str(folder)}
        replay.update(self._describe(replay_task, halved))
        prior: tuple[PriorCurve, ...] = ()
        if wants_prior:
            source = self.prior_folder(task, replay_from)
            prior = load_prior(source, _ODD if halved else None)
            replay["prior"] = f"{len(prior)} recorded curves from {source}{self.prior_caveat}"
        return Setup(replay_task, replay, prior)

    def _describe(self, task: ReplayTask, halved: bool) -> dict[str, Any]:
        """What the run's metadata says about the answers (nothing beyond the source here)."""
        return {}

    def note(self, meta: dict[str, Any]) -> str:
        replay = meta.get("replay") or {}
        answers = f" ({replay['answers']})" if "answers" in replay else ""
        return (
            f"Mode: {self.name} replay: evaluations answered from {self.kind} in "
            f"`{replay.get('source')}`{answers}; `wall_seconds` are on a simulated clock: "
            "recorded (or predicted) training seconds plus each strategy's measured decision "
            f"time.{self._prior_note(replay)}"
        )


class TabularMode(_ReplayMode):
    """Answers from the recorded table (nearest recorded configuration for one not recorded)."""

    name, has_regret, halves, kind = "tabular", True, True, "recorded learning curves"

    def folder(self, task: str, replay_from: str | None) -> Path:
        return recorded_benchmark(task, replay_from)

    def prior_folder(self, task: str, replay_from: str | None) -> Path:
        return self.folder(task, replay_from)

    def _replay_task(self, folder: Path, ids: slice | None) -> ReplayTask:
        from mfnas.replay.tabular import TabularTask

        return TabularTask.from_folder(folder, ids)

    def _describe(self, task: ReplayTask, halved: bool) -> dict[str, Any]:
        half = ", the even-id half; the odd half is the prior" if halved else ""
        worst, best = task.test_range()
        return {
            "answers": f"{len(task.recordings)} recorded configurations{half}",
            "test_worst": worst,
            "test_best": best,
        }


class SurrogateMode(_ReplayMode):
    """Answers predicted by the XGBoost surrogate fitted on the recorded table."""

    name, kind = "surrogate", "an XGBoost surrogate fitted on recorded learning curves"
    prior_caveat = ", the data the surrogate learned from: optimistic"

    def folder(self, task: str, replay_from: str | None) -> Path:
        return _find("surrogates", task, replay_from, "python -m mfnas.fit_surrogate", "surrogate")

    def _replay_task(self, folder: Path, ids: slice | None) -> ReplayTask:
        from mfnas.replay.surrogate import SurrogateTask

        return SurrogateTask.from_folder(folder)


MODES: dict[str, Mode] = {mode.name: mode for mode in (LiveMode(), TabularMode(), SurrogateMode())}


def mode_of(meta: dict[str, Any]) -> Mode:
    """The mode a store's metadata names (``live`` for stores written before modes existed)."""
    return MODES[meta.get("mode", "live")]
