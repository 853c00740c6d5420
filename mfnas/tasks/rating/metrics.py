"""Rating-prediction metrics: RMSE and MAE, with predictions clipped to the rating scale."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

RATING_RANGE = (1.0, 5.0)  # MovieLens stars; predictions are clipped to it before scoring
METRICS = ("rmse", "mae")

Predictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def rating_metrics(predicted: torch.Tensor, actual: torch.Tensor) -> dict[str, float]:
    """``{"rmse", "mae"}`` of ``predicted`` against ``actual`` (same shape, not empty), in
    float64, as given (no clipping here)."""
    if predicted.shape != actual.shape or predicted.numel() == 0:
        raise ValueError(f"need two equal non-empty shapes, got {predicted.shape}, {actual.shape}")
    error = predicted.double() - actual.double()
    return {"rmse": error.square().mean().sqrt().item(), "mae": error.abs().mean().item()}


class RatingEvaluator:
    """Scores a predictor on fixed (user, item, rating) rows kept on ``device``.

    Calling it with ``predict(users, items) -> ratings`` returns ``rating_metrics`` of the
    predictions clipped to ``RATING_RANGE`` (a prediction of 5.7 counts as 5).
    """

    def __init__(self, rows: np.ndarray, device: torch.device) -> None:
        self.users = torch.as_tensor(rows[:, 0], dtype=torch.long, device=device)
        self.items = torch.as_tensor(rows[:, 1], dtype=torch.long, device=device)
        self.ratings = torch.as_tensor(rows[:, 2], dtype=torch.float32, device=device)

    def __call__(self, predict: Predictor) -> dict[str, float]:
        predicted = predict(self.users, self.items).clamp(*RATING_RANGE)
        return rating_metrics(predicted, self.ratings)
