"""How long a memory lasts: the decision at distance d after the -1, for d up to 100,000 steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seqmem.checkpoint import Checkpoint
from seqmem.core.config import RetentionConfig
from seqmem.inference import decision_chunks

if TYPE_CHECKING:  # a model in memory is welcome; importing its module would import torch
    from seqmem.model import SequenceClassifier

CHUNK_FLOATS = 1 << 20  # decisions per chunk (8 MB): small enough to stay in memory that is already mapped


def distances(max_distance: int, per_decade: int = 8) -> np.ndarray:
    """Log-spaced distances 1..max_distance, integers, each once."""
    d = np.unique(np.round(np.logspace(0, np.log10(max_distance), 1 + per_decade * int(np.log10(max_distance)))))
    return d.astype(np.int64)


def retention(model: Checkpoint | SequenceClassifier, cfg: RetentionConfig) -> tuple[dict, list[dict]]:
    """Metrics and curve rows {distance, p_mean, latched, false_alarm} for one model.

    Positives: a -1, then `max_distance` random digits. latched(d): share whose decision is above
    0.5 at every step from the -1 through d steps after it. Negatives: the same length without a -1;
    false_alarm(d): share with a decision above 0.5 anywhere in their first d + 1 steps.
    The decisions come in time chunks (seqmem.inference.decision_chunks), each folded into running per-sequence
    flags, so memory stays bounded: 128 x 100,001 float64 decisions would be 100 MB of fresh pages.
    """
    rng = np.random.default_rng(cfg.seed)
    N, T = cfg.num_sequences, cfg.max_distance + 1
    X = np.empty((2 * N, T, 1), np.float32)  # positives, then negatives: the kernel reads float32 digits in place
    for r in range(0, 2 * N, 8):  # rng.integers(0, 10, (2, N, T)) in blocks of rows: the same stream
        X[r : r + 8, :, 0] = rng.integers(0, 10, size=(min(8, 2 * N - r), T))
    X[:N, 0] = -1  # the -1 first: distance d is step d
    d = distances(cfg.max_distance)
    p_at, latched, alarmed = np.empty((N, len(d))), np.empty((N, len(d)), bool), np.empty((N, len(d)), bool)
    held, alarm = np.ones(N, bool), np.zeros(N, bool)  # above 0.5 all the way so far; above anywhere so far
    for t, chunk in decision_chunks(model, X, floats=CHUNK_FLOATS):  # (2N, span): one pass, the cost is per step
        pos, neg = chunk[:N], chunk[N:]
        run_held = np.minimum.accumulate(pos > 0.5, axis=1) & held[:, None]  # (N, span)
        run_alarm = np.maximum.accumulate(neg > 0.5, axis=1) | alarm[:, None]
        here = (d >= t) & (d < t + chunk.shape[1])
        p_at[:, here], latched[:, here], alarmed[:, here] = (a[:, d[here] - t] for a in (pos, run_held, run_alarm))
        held, alarm = run_held[:, -1], run_alarm[:, -1]
    rows = [{"distance": int(x), "p_mean": round(float(p_at[:, i].mean()), 6), "latched": float(latched[:, i].mean()),
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
