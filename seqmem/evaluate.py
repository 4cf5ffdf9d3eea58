"""Score a model on a ValSet: accuracy, loss, and recall by where the -1 sits."""

from __future__ import annotations

import numpy as np
import torch

from seqmem.dataset import ValSet
from seqmem.model import SequenceClassifier


@torch.no_grad()
def decisions(model: SequenceClassifier, X: np.ndarray) -> np.ndarray:
    """P(a -1 was seen) at every step, (N, T) float64."""
    model.eval()
    _, d = model(X)  # (N, T, 1)
    return d[..., 0].double().cpu().numpy()


def final_decisions(model: SequenceClassifier, vs: ValSet) -> np.ndarray:
    """The decision at each sequence's own last step, (N,); padding comes after it, so it can't leak in."""
    d = decisions(model, vs.X)  # (N, T_max)
    return d[np.arange(len(vs)), vs.lengths - 1]


def accuracy(model: SequenceClassifier, vs: ValSet) -> float:
    """Share of sequences whose final decision (> 0.5) matches the label."""
    return float(((final_decisions(model, vs) > 0.5) == vs.Y[:, 0].astype(bool)).mean())


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None  # None: no sequence fell in this group


def evaluate(model: SequenceClassifier, vs: ValSet) -> dict[str, float | None]:
    """Accuracy, BCE loss, accuracy on negatives, and recall when the -1 is early/middle/late."""
    p = final_decisions(model, vs)  # (N,)
    y = vs.Y[:, 0].astype(bool)
    pred = p > 0.5
    eps = 1e-12  # log(0) guard: a saturated sigmoid can round to exactly 0 or 1
    loss = -np.mean(np.where(y, np.log(p + eps), np.log(1 - p + eps)))
    third = np.minimum(3 * vs.minus_one_at() // vs.lengths, 2)  # 0/1/2 for positives, garbage for negatives
    out = {
        "accuracy": _share(pred == y),
        "loss": float(loss),
        "accuracy_negatives": _share(~pred[~y]),
        "recall": _share(pred[y]),
    }
    for i, name in enumerate(("early", "middle", "late")):
        out[f"recall_{name}"] = _share(pred[y & (third == i)])
    return out
