"""How long a memory lasts: the decision at distance d after the -1, for d up to 100,000 steps."""

from __future__ import annotations

import numpy as np

from seqmem.core.config import RetentionConfig
from seqmem.model import SequenceClassifier, decisions


def distances(max_distance: int, per_decade: int = 8) -> np.ndarray:
    """Log-spaced distances 1..max_distance, integers, each once."""
    d = np.unique(np.round(np.logspace(0, np.log10(max_distance), 1 + per_decade * int(np.log10(max_distance)))))
    return d.astype(np.int64)


def retention(model: SequenceClassifier, cfg: RetentionConfig) -> tuple[dict, list[dict]]:
    """Metrics and curve rows {distance, p_mean, latched, false_alarm} for one model.

    Positives: a -1, then `max_distance` random digits. latched(d): share whose decision is above
    0.5 at every step from the -1 through d steps after it. Negatives: the same length without a -1;
    false_alarm(d): share with a decision above 0.5 anywhere in their first d + 1 steps.
    The recurrent state is carried across chunks (model.decisions), so memory stays bounded.
    """
    rng = np.random.default_rng(cfg.seed)
    T = cfg.max_distance + 1
    digits = rng.integers(0, 10, size=(2, cfg.num_sequences, T))  # (2, N, T): positives, negatives
    digits[0, :, 0] = -1  # the -1 first: distance d is step d
    both = decisions(model, digits.reshape(2 * cfg.num_sequences, T, 1))  # one pass: the cost is per step
    pos, neg = both[: cfg.num_sequences], both[cfg.num_sequences :]  # (N, T) each
    d = distances(cfg.max_distance)
    latched = np.minimum.accumulate(pos > 0.5, axis=1)[:, d]  # (N, D): above 0.5 all the way to d
    alarmed = np.maximum.accumulate(neg > 0.5, axis=1)[:, d]
    rows = [{"distance": int(x), "p_mean": round(float(pos[:, x].mean()), 6), "latched": float(latched[:, i].mean()),
             "false_alarm": float(alarmed[:, i].mean())} for i, x in enumerate(d)]
    rate = latched.mean(axis=0)  # (D,)
    below = np.flatnonzero(rate < 0.5)
    metrics = {
        # the first distance at which fewer than half still hold the memory; None: more than max_distance
        "half_life": int(d[below[0]]) if below.size else None,
        "latched_at_max": float(rate[-1]),
        "false_alarm_at_max": float(alarmed[:, -1].mean()),
    }
    return metrics, rows
