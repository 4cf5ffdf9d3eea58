"""Probes: per-step decisions on hand-made sequences, as in the exercise."""

from __future__ import annotations

import numpy as np

from seqmem.evaluate import decisions
from seqmem.model import SequenceClassifier

NO_MINUS_ONE = "no -1"


def probe_set(sequence: list[int], positions: list[int]) -> dict[str, np.ndarray]:
    """The sequence as given, plus one copy per position with a -1 written there; name -> (T,) ints."""
    base = np.asarray(sequence, dtype=np.int64)
    probes = {NO_MINUS_ONE: base}
    for pos in positions:
        seq = base.copy()
        seq[pos] = -1
        probes[f"-1 at {pos}"] = seq
    return probes


def trace_rows(model: SequenceClassifier, probes: dict[str, np.ndarray]) -> list[dict]:
    """Long-format rows {probe, step, token, p} for every probe and step, ready for dvc plots."""
    X = np.stack(list(probes.values()))[..., None]  # (P, T, 1): all probes share one length
    d = decisions(model, X)  # (P, T)
    return [
        {"probe": name, "step": t, "token": int(X[i, t, 0]), "p": round(float(d[i, t]), 6)}
        for i, name in enumerate(probes)
        for t in range(X.shape[1])
    ]
