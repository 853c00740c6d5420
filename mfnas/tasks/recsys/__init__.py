"""The recsys task (MovieLens-100K, implicit feedback, top-10 full ranking)."""

from mfnas.tasks.recsys.config import RecsysConfig
from mfnas.tasks.recsys.metrics import RankingEvaluator, ranking_metrics
from mfnas.tasks.recsys.models import build_model
from mfnas.tasks.recsys.split import Split, split_interactions
from mfnas.tasks.recsys.task import RecsysTask, load_split
from mfnas.tasks.recsys.train import Trainer

__all__ = [
    "RankingEvaluator",
    "RecsysConfig",
    "RecsysTask",
    "Split",
    "Trainer",
    "build_model",
    "load_split",
    "ranking_metrics",
    "split_interactions",
]
