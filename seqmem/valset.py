"""The fixed validation set: sequences of mixed lengths, right-padded into one array."""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from pathlib import Path

import numpy as np

from seqmem.core.artifacts import ArtifactError, atomic_path, reason, write_npz
from seqmem.core.config import Sequences
from seqmem.data import check_count, draw


@dataclasses.dataclass(frozen=True)
class ValSet:
    """X (N, T_max, 1) int64 right-padded with 0; lengths (N,); Y (N, 1) int64."""

    X: np.ndarray
    lengths: np.ndarray
    Y: np.ndarray

    def __len__(self) -> int:
        return len(self.Y)

    def minus_one_at(self) -> np.ndarray:
        """Position of the -1 in each sequence, or -1 where there is none, (N,)."""
        hit = self.X[..., 0] == -1  # (N, T)
        return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def make_valset(
    N: int,
    rng: np.random.Generator,
    *,
    min_len: int = Sequences.min_len,
    max_len: int = Sequences.max_len,
    p_minus_one: float = Sequences.p_minus_one,
) -> ValSet:
    """N sequences, each with its own uniform length; one make_data draw per distinct length."""
    check_count("N", N)
    spec = Sequences(min_len=min_len, max_len=max_len, p_minus_one=p_minus_one)
    lengths = rng.integers(min_len, max_len + 1, size=N)
    if min_len == max_len:  # one length, no padding: draw()'s arrays as they are, not copied into place
        X, Y = draw(N, rng, spec)
        return ValSet(X, lengths.astype(np.int64), Y)
    X = np.zeros((N, max_len, 1), dtype=np.int64)
    Y = np.zeros((N, 1), dtype=np.int64)
    for T in np.unique(lengths):
        rows = np.flatnonzero(lengths == T)
        X[rows, :T], Y[rows] = draw(len(rows), rng, Sequences(min_len=int(T), max_len=int(T),
                                                                p_minus_one=spec.p_minus_one))
    return ValSet(X, lengths.astype(np.int64), Y)


def save_valset(vs: ValSet, path: str | Path) -> None:
    """Write as a byte-stable .npz (fixed zip timestamps), atomically."""
    with atomic_path(path) as tmp:
        write_npz(tmp, {"X": vs.X, "lengths": vs.lengths, "Y": vs.Y})


def load_valset(path: str | Path) -> ValSet:
    """Read and check a validation set written by save_valset."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("X", "lengths", "Y")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise ArtifactError(f"{path}: not a seqmem validation set ({reason(e)})") from None
    X, lengths, Y = arrays["X"], arrays["lengths"], arrays["Y"]
    problems = []
    if X.ndim != 3 or X.shape[2] != 1 or X.dtype != np.int64:
        problems.append(f"X must be int64 of shape (N, T, 1), got {X.dtype} {X.shape}")
    elif lengths.shape != (len(X),) or Y.shape != (len(X), 1) or lengths.dtype.kind != "i" or Y.dtype.kind != "i":
        problems.append(f"lengths {lengths.dtype} {lengths.shape} and Y {Y.dtype} {Y.shape} must be integers, "
                        f"(N,) and (N, 1) with N={len(X)}")
    elif len(X) == 0 or lengths.min() < 1 or lengths.max() > X.shape[1]:
        problems.append("lengths must lie in 1..T and N must be >= 1")
    elif X.min() < -1 or X.max() > 9 or not np.isin(Y, (0, 1)).all():
        problems.append("values must lie in -1..9 and labels in {0, 1}")
    if problems:
        raise ArtifactError(f"{path}: {problems[0]}")
    vs = ValSet(X, lengths, Y)
    bad = contradiction(vs)
    if bad:
        raise ArtifactError(f"{path}: {bad}; a seqmem validation set can't hold that: run `dvc repro -f -s generate` "
                            "to make it anew")
    return vs


def contradiction(vs: ValSet) -> str | None:
    """The first row that the task's definition rules out, in words; None if every row holds.

    A row is digits 0..9 with at most one -1 within its length, zeros after it (the padding), and
    the label 1 exactly when it holds a -1.
    """
    X = vs.X[..., 0]  # (N, T)
    inside = np.arange(X.shape[1])[None, :] < vs.lengths[:, None]  # (N, T)
    minus = (X == -1) & inside  # (N, T)
    held = minus.any(axis=1)  # (N,)
    rules = {
        "padding after its length that is not 0": ((X != 0) & ~inside).any(axis=1),
        "more than one -1": minus.sum(axis=1) > 1,
        "a -1, but its label says none": held & (vs.Y[:, 0] == 0),
        "no -1, but its label says one": ~held & (vs.Y[:, 0] == 1),
    }
    found = [(int(np.argmax(rows)), what) for what, rows in rules.items() if rows.any()]
    if not found:
        return None
    row, what = min(found)
    return f"row {row} (length {vs.lengths[row]}, label {vs.Y[row, 0]}) has {what}"
