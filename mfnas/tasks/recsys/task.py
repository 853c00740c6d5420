"""The recsys task: MovieLens-100K implicit feedback, top-10 full ranking, epochs as fidelity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ConfigSpace import Configuration

from mfnas.direction import Direction
from mfnas.tasks.base import Checkpoint, Result, TrainedTask
from mfnas.tasks.device import resolve_device
from mfnas.tasks.recsys.config import RecsysConfig
from mfnas.tasks.recsys.split import Split, split_interactions
from mfnas.tasks.recsys.train import OBJECTIVE, Trainer


def load_split(data_dir: str | Path | None = None, seed: int = 0) -> Split:
    """MovieLens-100K (every rating an implicit positive) split per user 80/10/10 with ``seed``."""
    from mfnas.data.movielens import load_ml100k  # imported on first use: keeps imports light

    return split_interactions(load_ml100k(data_dir)[:, :2], seed=seed)


class RecsysTask(TrainedTask):
    """Implicit-feedback recommendation on MovieLens-100K; the objective is validation NDCG@10.

    The constructor only stores its parameters; the data, the split and the device are set up
    on first use and cached, and left out when the task is pickled (a worker rebuilds them).
    """

    name = "recsys"
    metric = OBJECTIVE
    direction = Direction.MAXIMIZE
    min_epochs = 1
    max_epochs = 27

    cached = ("_split", "_trainer")
    reference_modules = (
        "mfnas.tasks.recsys.reference",
        "mfnas.tasks.recsys.train",
        "mfnas.tasks.recsys.metrics",
    )
    _split: Split | None
    _trainer: Trainer | None

    @property
    def split(self) -> Split:
        """The train/validation/test split (loaded and cut on first use)."""
        if self._split is None:
            self._split = load_split(self.data_dir, self.split_seed)
        return self._split

    def data_card(self) -> str:
        split = self.split
        return (
            f"MovieLens-100K, every rating an implicit positive; per-user random 80/10/10 split, "
            f"split seed {self.split_seed}: {len(split.train):,} train / {len(split.val):,} "
            f"validation / {len(split.test):,} test interactions."
        )

    def _references(self) -> dict[str, dict[str, Any]]:
        """Most-popular and tuned EASE on this task's split (see ``reference.py``)."""
        from mfnas.tasks.recsys.reference import reference_rows

        return reference_rows(self.split)

    def _evaluate(
        self, config: Configuration, epochs: int, seed: int, start: Checkpoint | None = None
    ) -> Result:
        if self._trainer is None:
            self._trainer = Trainer(self.split, resolve_device(self.device))
        recsys_config = RecsysConfig.from_mapping(dict(config))
        return self._trainer.run(recsys_config, int(epochs), int(seed), start)
