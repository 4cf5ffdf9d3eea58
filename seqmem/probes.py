"""The pipeline's probes: the exercise's sequence with a -1 written at chosen positions, and their decisions."""

from __future__ import annotations

import numpy as np

from seqmem.model import SequenceClassifier, forward_decisions

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


def followed_pair(probes: dict[str, np.ndarray], positions: list[int]) -> dict[str, np.ndarray]:
    """The two probes the hidden-state view follows: the one without a -1, and the middle listed position's."""
    middle = f"-1 at {positions[len(positions) // 2]}"
    return {name: probes[name] for name in (NO_MINUS_ONE, middle)}


def trace_rows(model: SequenceClassifier, probes: dict[str, np.ndarray]) -> list[dict]:
    """Long-format rows {model, probe, step, token, p} for every probe and step, ready for dvc plots."""
    X = np.stack(list(probes.values()))[..., None]  # (P, T, 1): all probes share one length
    d = forward_decisions(model, X)  # (P, T)
    return [
        {"model": model.flavor.upper(), "probe": name, "step": t, "token": int(X[i, t, 0]),
         "p": round(float(d[i, t]), 6)}
        for i, name in enumerate(probes)
        for t in range(X.shape[1])
    ]


def staircase_rows(model: SequenceClassifier, sequence: list[int]) -> list[dict]:
    """The sequence with its -1 at each position 0..T-1: rows {position, step, p}: the staircase."""
    probes = probe_set(sequence, list(range(len(sequence))))
    del probes[NO_MINUS_ONE]
    X = np.stack(list(probes.values()))[..., None]  # (T, T, 1)
    d = forward_decisions(model, X)  # (T positions, T steps)
    T = len(sequence)
    return [{"position": i, "step": t, "p": round(float(d[i, t]), 6)} for i in range(T) for t in range(T)]
