"""Score a model on a ValSet: accuracy, loss, and recall by where the -1 sits."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import TYPE_CHECKING

import numpy as np

from seqmem.checkpoint import Checkpoint
from seqmem.core.config import EvalConfig
from seqmem.inference import decisions
from seqmem.valset import ValSet, make_valset

if TYPE_CHECKING:  # a model in memory is welcome; importing its module would import torch
    from seqmem.model import SequenceClassifier


def at_last_step(d: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each row's value at its own last step, (N,); right-padding comes after it, so it can't leak in."""
    return d[np.arange(len(d)), lengths - 1]


def final_decisions(model: Checkpoint | SequenceClassifier, vs: ValSet) -> np.ndarray:
    """The decision at each sequence's own last step, (N,)."""
    if (vs.lengths == vs.X.shape[1]).all():  # one length, no padding: the kernel keeps the last step alone
        return decisions(model, vs.X, last=True)
    return at_last_step(decisions(model, vs.X), vs.lengths)


def accuracy(model: Checkpoint | SequenceClassifier, vs: ValSet) -> float:
    """Share of sequences whose final decision (> 0.5) matches the label."""
    return share_correct(final_decisions(model, vs), vs)


def share_correct(p: np.ndarray, vs: ValSet) -> float:
    """Share of sequences whose final decision p (N,) (> 0.5) matches the label."""
    return float(((p > 0.5) == vs.Y[:, 0].astype(bool)).mean())


def bce(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities p (N,) against labels y (N,), each log clamped at -100 as torch's.

    In decimal arithmetic, exact to 40 digits and then rounded once: numpy picks its log kernel by CPU
    (AVX-512 has its own) and libm by ISA, while Decimal.ln is correctly rounded in software, so the
    loss has the same bits on every machine, and no torch is needed. 2,000 values take ~20 ms.
    """
    ctx, floor = Context(prec=40), Decimal(-100)
    total = Decimal(0)
    for pi, yi in zip(p.tolist(), np.asarray(y, bool).tolist(), strict=True):
        x = Decimal(pi) if yi else 1 - Decimal(pi)  # exact: a float64 is a finite decimal
        total = ctx.add(total, max(ctx.ln(x), floor) if x > 0 else floor)
    return float(ctx.divide(-total, len(p))) if len(p) else float("nan")


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None  # None: no sequence fell in this group


def evaluate(model: Checkpoint | SequenceClassifier, vs: ValSet, ignore_first: int = 1) -> dict:
    """Accuracy, BCE loss, accuracy on negatives, recall by where the -1 sits, and flip timing."""
    return scores(decisions(model, vs.X), vs, ignore_first)


def scores(d: np.ndarray, vs: ValSet, ignore_first: int = 1) -> dict:
    """evaluate()'s metrics from the per-step decisions d (N, T_max) on vs."""
    p = at_last_step(d, vs.lengths)  # (N,) final decisions
    y = vs.Y[:, 0].astype(bool)
    pred = p > 0.5
    loss = bce(p, y)
    where = vs.minus_one_at()
    thirds = position_recall(pred, vs.lengths, where, bins=3)
    deciles = position_recall(pred, vs.lengths, where, bins=10)
    return {
        "accuracy": _share(pred == y),
        "loss": float(loss),
        "accuracy_negatives": _share(~pred[~y]),
        "recall": _share(pred[y]),
        "recall_early": thirds[0],
        "recall_middle": thirds[1],
        "recall_late": thirds[2],
        "recall_by_position": {f"{10 * b:02d}-{10 * b + 10}%": r for b, r in enumerate(deciles)},
        **flip_stats(d, vs.lengths, where, ignore_first),
    }


def flip_stats(d: np.ndarray, lengths: np.ndarray, minus_one_at: np.ndarray, ignore_first: int = 1) -> dict:
    """How the decision reacts to the -1, from per-step decisions d (N, T).

    lag: steps from the -1 to the first decision > 0.5 at or after it (positives that flip).
    lag0_share: share of positives that flip exactly at the -1.
    latch_rate: share of positives that flip and stay > 0.5 to their last step.
    false_alarm_rate: share of all sequences with a decision > 0.5 before their -1 (anywhere, for
    negatives), not counting the first `ignore_first` steps, where a network has seen too little.
    """
    N, T = d.shape
    t = np.arange(T)[None, :]  # (1, T)
    above = (d > 0.5) & (t < lengths[:, None])  # (N, T), padding never counts
    pos = minus_one_at[:, None]  # (N, 1), -1 for negatives
    positive = minus_one_at >= 0
    before = (t >= ignore_first) & (t < np.where(pos >= 0, pos, lengths[:, None]))
    after = (t >= pos) & positive[:, None]
    flipped = (above & after).any(axis=1)  # (N,)
    flip_at = np.where(flipped, np.argmax(above & after, axis=1), -1)
    lag = flip_at - minus_one_at
    # latched: from the flip to the end every valid step is above
    since_flip = (t >= flip_at[:, None]) & (t < lengths[:, None])
    latched = flipped & ~(since_flip & ~above).any(axis=1)
    n_pos = int(positive.sum())
    return {
        "mean_lag": float(lag[flipped].mean()) if flipped.any() else None,
        "lag0_share": float((flipped & (lag == 0)).sum() / n_pos) if n_pos else None,
        "latch_rate": float(latched.sum() / n_pos) if n_pos else None,
        "false_alarm_rate": float((above & before).any(axis=1).mean()) if N else None,
    }


def position_recall(pred: np.ndarray, lengths: np.ndarray, minus_one_at: np.ndarray, bins: int = 10) -> list:
    """Recall of positives by the -1's relative position pos/len, in `bins` equal bins (None if empty)."""
    positive = minus_one_at >= 0
    which = np.minimum(bins * minus_one_at // lengths, bins - 1)  # (N,) exact integer binning
    return [_share(pred[positive & (which == b)]) for b in range(bins)]


def record(model: Checkpoint | SequenceClassifier, vs: ValSet, cfg: EvalConfig) -> tuple[dict, list[dict]]:
    """Stage evaluate's record of one model: its metrics, and accuracy-by-length rows {length, accuracy}.

    The length curve takes the validation set's own lengths, then fresh sets of each of cfg.lengths.
    """
    d = decisions(model, vs.X)  # (N, T_max), once for both
    metrics = scores(d, vs, cfg.ignore_first)
    correct = (at_last_step(d, vs.lengths) > 0.5) == vs.Y[:, 0].astype(bool)
    curve = [{"length": int(L), "accuracy": float(correct[vs.lengths == L].mean())} for L in np.unique(vs.lengths)]
    long = length_accuracy(model, cfg.lengths, cfg.num_sequences, cfg.seed)
    metrics["accuracy_by_length"] = {str(L): a for L, a in long.items()}
    return metrics, curve + [{"length": L, "accuracy": a} for L, a in long.items()]


def length_accuracy(model: Checkpoint | SequenceClassifier, lengths: list[int], size: int, seed: int,
                    p_minus_one: float = 0.5) -> dict[int, float]:
    """Accuracy on fresh sets of one fixed length each; seeded per length, so adding one changes no other."""
    out = {}
    for L in lengths:
        vs = make_valset(size, np.random.default_rng([seed, L]), min_len=L, max_len=L, p_minus_one=p_minus_one)
        out[L] = accuracy(model, vs)
    return out
