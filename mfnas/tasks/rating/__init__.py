"""The recsys-rating task (MovieLens-100K explicit ratings, RMSE)."""

from mfnas.tasks.rating.config import RatingConfig
from mfnas.tasks.rating.metrics import RatingEvaluator, rating_metrics
from mfnas.tasks.rating.models import RatingModel, build_rating_model
from mfnas.tasks.rating.reference import fit_biases
from mfnas.tasks.rating.split import RatingSplit, rating_folds, split_ratings
from mfnas.tasks.rating.task import RatingTask
from mfnas.tasks.rating.train import RatingTrainer

__all__ = [
    "RatingConfig",
    "RatingEvaluator",
    "RatingModel",
    "RatingSplit",
    "RatingTask",
    "RatingTrainer",
    "build_rating_model",
    "fit_biases",
    "rating_folds",
    "rating_metrics",
    "split_ratings",
]
