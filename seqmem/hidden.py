"""Where the memory lives: per-step hidden (and LSTM cell) states, and linear readouts on them."""

from __future__ import annotations

import numpy as np
import torch

from seqmem.data import seen_so_far
from seqmem.model import SequenceClassifier


@torch.no_grad()
def states(model: SequenceClassifier, X: np.ndarray) -> dict[str, np.ndarray]:
    """Top-layer state at every step: {"h": (N, T, H)}, plus {"c": (N, T, H)} for an LSTM.

    nn.LSTM returns only the last cell state, so the LSTM is stepped one input at a time.
    """
    model.eval()
    x = model.as_input(X)  # (N, T, 1) float
    if model.flavor != "lstm":
        return {"h": model.hidden(x).double().cpu().numpy()}
    hs, cs, state = [], [], None
    for t in range(x.shape[1]):
        out, state = model.rnn(x[:, t : t + 1], state)
        hs.append(out[:, 0])  # (N, H)
        cs.append(state[1][-1])  # top layer's cell, (N, H)
    return {"h": torch.stack(hs, 1).double().numpy(), "c": torch.stack(cs, 1).double().numpy()}


def fit_logistic(feats: np.ndarray, y: np.ndarray, ridge: float = 1e-3, iters: int = 25) -> np.ndarray:
    """Logistic regression by Newton's method (IRLS): weights (D + 1,), the last one the bias.

    The small ridge keeps it finite when the classes are separable, which a good memory makes them.
    """
    A = np.hstack([feats, np.ones((len(feats), 1))])  # (n, D+1)
    w = np.zeros(A.shape[1])
    reg = ridge * len(feats) * np.eye(A.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(A @ w, -30, 30)))  # (n,)
        grad = A.T @ (p - y) + reg @ w
        hess = (A * (p * (1 - p))[:, None]).T @ A + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def readout_accuracy(feats: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """Fit on a random half, score on the other half: is y linearly readable from feats?"""
    idx = rng.permutation(len(feats))
    fit, test = idx[: len(feats) // 2], idx[len(feats) // 2 :]
    w = fit_logistic(feats[fit], y[fit])
    logits = feats[test] @ w[:-1] + w[-1]
    return float(((logits > 0) == y[test].astype(bool)).mean())


def top_units(feats: np.ndarray, y: np.ndarray, k: int) -> list[int]:
    """The k units whose activation correlates most (in absolute value) with y."""
    fc, yc = feats - feats.mean(0), y - y.mean()
    corr = (fc * yc[:, None]).sum(0) / (np.sqrt((fc**2).sum(0) * (yc**2).sum()) + 1e-12)  # (D,)
    return [int(i) for i in np.argsort(-np.abs(corr), kind="stable")[:k]]


def memory_view(model: SequenceClassifier, X: np.ndarray, lengths: np.ndarray, probes: dict[str, np.ndarray],
                units: int, seed: int = 0) -> tuple[dict[str, float], list[dict]]:
    """Linear-readout accuracy per state kind on (X, lengths), and the top units' trajectories on `probes`.

    The latent is "a -1 was seen up to step t", taken at every valid step of every sequence.
    Returns ({"linear_readout_h": acc, ["linear_readout_c": acc]}, rows {probe, unit, step, token, value}).
    """
    t = np.arange(X.shape[1])[None, :]
    valid = t < lengths[:, None]  # (N, T): padding is not data
    seen = seen_so_far(X[..., 0])[valid].astype(float)  # (n,)
    S = states(model, X)
    P = states(model, np.stack(list(probes.values()))[..., None])  # probes share one length
    metrics, rows = {}, []
    for kind, arr in S.items():
        feats = arr[valid]  # (n, H)
        metrics[f"linear_readout_{kind}"] = readout_accuracy(feats, seen, np.random.default_rng(seed))
        for u in top_units(feats, seen, units):
            for i, name in enumerate(probes):
                rows += [{"probe": name, "unit": f"{kind}[{u}]", "step": s, "token": int(probes[name][s]),
                          "value": round(float(v), 6)} for s, v in enumerate(P[kind][i, :, u])]
    return metrics, rows
