"""Training curves of every trial for TensorBoard (``python -m mfnas.bench --tensorboard DIR``).

Each finished trial becomes one TensorBoard run, ``DIR/<strategy>-seed<seed>/trial<id>``, holding
its validation objective per epoch (``val/<metric>``) and training loss per epoch
(``train/loss``, where the task reports it), with its configuration as hyperparameters and
its final validation score and epochs as the hyperparameters' metrics (the HPARAMS tab); a
crashed trial holds its error as text. Test scores are not written: they are read only for
the incumbents, in the leaderboard. ``tensorboard --logdir DIR`` shows them while a run goes
on, a trial at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfnas.store import Status, TrialRecord


def _hparam(value: Any) -> int | float | str | bool:
    """A configuration value as TensorBoard's hyperparameters take it."""
    return value if isinstance(value, bool | int | float | str) else str(value)


class TrialLog:
    """Writes each trial it is given as a TensorBoard run under ``folder`` (see the module
    docstring). Raises ImportError when the ``tensorboard`` package is not installed."""

    def __init__(self, folder: Path, metric: str) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self._writer = SummaryWriter
        self.folder, self.metric = Path(folder), metric

    def write(self, record: TrialRecord) -> None:
        """Write ``record``'s curves, configuration and outcome as one run."""
        where = self.folder / f"{record.strategy}-seed{record.seed}" / f"trial{record.trial_id:04d}"
        with self._writer(log_dir=str(where)) as writer:
            if record.status is Status.CRASHED:
                writer.add_text("error", record.error or "crashed")
                return
            for epoch, value in enumerate(record.curve, start=1):
                writer.add_scalar(f"val/{self.metric}", value, epoch)
            for epoch, loss in enumerate(record.extra.get("train_loss", ()), start=1):
                writer.add_scalar("train/loss", loss, epoch)
            writer.add_hparams(
                {name: _hparam(value) for name, value in sorted(record.config.items())},
                {f"final/val_{self.metric}": record.curve[-1], "final/epochs": record.epochs},
                run_name=".",
            )
