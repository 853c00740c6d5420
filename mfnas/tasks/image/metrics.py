"""Classification metrics: accuracy, macro-F1 and cross-entropy, in torch.

With ``scores`` the ``(n, classes)`` logits (or log-probabilities) and ``labels`` the true
classes, ``predicted`` the predicted classes (default: each row's argmax, the first on ties):

- ``accuracy`` = share of rows with ``predicted == labels``;
- ``macro_f1`` = the mean over classes of F1 = 2 TP / (2 TP + FP + FN), over the classes that
  occur in ``labels`` or ``predicted`` (scikit-learn's ``f1_score(average="macro")``);
- ``cross_entropy`` = the mean of ``-log softmax(scores)[label]`` (scikit-learn's
  ``log_loss`` of the softmax probabilities), in nats; lower is better.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NAMES = ("accuracy", "macro_f1", "cross_entropy")


def classification_metrics(
    scores: torch.Tensor, labels: torch.Tensor, predicted: torch.Tensor | None = None
) -> dict[str, float]:
    """The metrics of the module doc, keyed by ``NAMES``, as Python floats."""
    n_classes = scores.shape[1]
    if predicted is None:
        predicted = scores.argmax(dim=1)
    confusion = torch.bincount(labels * n_classes + predicted, minlength=n_classes**2)
    confusion = confusion.view(n_classes, n_classes).double()  # rows: true, columns: predicted
    hits = confusion.diagonal()
    f1_denominator = confusion.sum(dim=0) + confusion.sum(dim=1)  # 2 TP + FP + FN
    occurring = f1_denominator > 0
    values = torch.stack(
        [
            hits.sum() / len(labels),
            (2 * hits[occurring] / f1_denominator[occurring]).mean(),
            F.cross_entropy(scores.double(), labels),
        ]
    )
    return dict(zip(NAMES, values.tolist(), strict=True))
