"""Reference rows for the text leaderboards (not searched): TF-IDF features with a linear SVM
and with complement naive Bayes, each tuned on validation accuracy over a small grid (the first
best in grid order wins ties), fitted on the train part of the same split, scored with the
searched models' metrics (the SVM's cross-entropy from its sigmoid-calibrated probabilities)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mfnas.tasks.image.metrics import classification_metrics
from mfnas.tasks.image.reference import tuned
from mfnas.tasks.text.data import TextSplit

SVM_C_GRID = (0.1, 0.3, 1.0, 3.0)
NB_ALPHA_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


def reference_rows(split: TextSplit, documents: list[str]) -> dict[str, dict[str, Any]]:
    """``{name: {"val": metrics, "test": metrics, "note": text}}`` for ``documents`` (every
    document's text, in the split's order): TF-IDF (sublinear term frequency, the vocabulary of
    the train part) with a linear SVM and with complement naive Bayes."""
    from sklearn.calibration import CalibratedClassifierCV  # imported on first use
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    tfidf = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+", dtype=np.float64)
    train = tfidf.fit_transform([documents[i] for i in split.train])
    features = {
        "train": train,
        "val": tfidf.transform([documents[i] for i in split.val]),
        "test": tfidf.transform([documents[i] for i in split.test]),
    }
    labels = {part: split.labels[getattr(split, part)] for part in features}

    train, val = (features["train"], labels["train"]), (features["val"], labels["val"])
    svm = tuned(LinearSVC, [{"C": c} for c in SVM_C_GRID], train, val)
    calibrated = CalibratedClassifierCV(LinearSVC(C=svm.C), ensemble=False, cv=5)
    calibrated.fit(features["train"], labels["train"])
    bayes = tuned(ComplementNB, [{"alpha": a} for a in NB_ALPHA_GRID], train, val)

    def scores(model: Any, proba: Any, part: str) -> dict[str, float]:
        probabilities = np.clip(proba.predict_proba(features[part]), 1e-12, None)
        return classification_metrics(
            torch.as_tensor(np.log(probabilities)),
            torch.as_tensor(labels[part]),
            torch.as_tensor(model.predict(features[part])),
        )

    rows = {
        "tfidf-linear-svm": (svm, calibrated, f"C {svm.C:g}, tuned on validation"),
        "tfidf-complement-nb": (bayes, bayes, f"alpha {bayes.alpha:g}, tuned on validation"),
    }
    return {
        name: {"val": scores(m, p, "val"), "test": scores(m, p, "test"), "note": note}
        for name, (m, p, note) in rows.items()
    }
