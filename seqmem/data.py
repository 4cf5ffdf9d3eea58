"""The task: integer sequences (values 0..9) that may hold a single -1."""

from __future__ import annotations

import numbers

import numpy as np

from seqmem.config import ConfigError, Sequences


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


def check_count(name: str, value: object) -> None:
    """A count of sequences or steps: an integer >= 1 (True is a bug, not a 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(name, f"must be an integer >= 1, got {value!r}")


def make_datum(
    size: int, rng: np.random.Generator | None = None, *, p_minus_one: float = Sequences.p_minus_one
) -> tuple[np.ndarray, int]:
    """One sequence x of shape (size, 1) and its label y (1 if it holds a -1)."""
    check_count("size", size)
    Sequences(min_len=int(size), max_len=int(size), p_minus_one=p_minus_one)  # checks p_minus_one
    rng = _rng(rng)
    x = rng.integers(0, 10, size=(size, 1))  # high is exclusive: values 0..9
    y = int(rng.random() < p_minus_one)
    if y:
        x[rng.integers(size)] = -1
    return x, y


def make_data(
    N: int,
    rng: np.random.Generator | None = None,
    *,
    min_len: int = Sequences.min_len,
    max_len: int = Sequences.max_len,
    p_minus_one: float = Sequences.p_minus_one,
) -> tuple[np.ndarray, np.ndarray]:
    """N sequences of one random length: X (N, T, 1) int64 and Y (N, 1) int64."""
    check_count("N", N)
    return draw(N, _rng(rng), Sequences(min_len=min_len, max_len=max_len, p_minus_one=p_minus_one))


def draw(N: int, rng: np.random.Generator, spec: Sequences) -> tuple[np.ndarray, np.ndarray]:
    """make_data for a spec that is already checked (any config is): no checks in the training loop."""
    T = int(rng.integers(spec.min_len, spec.max_len + 1))
    # one draw for everything: T digits, then "holds a -1", then where. floor(10 u) is uniform
    # over 0..9, and twice as fast as rng.integers for batches this small (measured).
    u = rng.random((N, T + 2))
    X = (u[:, :T, None] * 10).astype(np.int64)  # (N, T, 1)
    has = u[:, T] < spec.p_minus_one  # (N,)
    X[has, (u[has, T + 1] * T).astype(np.int64), 0] = -1
    return X, has[:, None].astype(np.int64)


def seen_so_far(X: np.ndarray) -> np.ndarray:
    """Per-step target (N, T, 1): 1 from the step a -1 arrives onwards."""
    return np.maximum.accumulate(X == -1, axis=1).astype(np.float32)
