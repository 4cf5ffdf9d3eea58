"""The task: integer sequences (values 0..9) that may hold a single -1."""

from __future__ import annotations

import numpy as np

MIN_LEN, MAX_LEN, P_MINUS_ONE = 10, 25, 0.5


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


def _check_int(name: str, value: object, low: int) -> None:
    # bool is an int subclass; True as a length is a bug, not a 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def check_args(N: int, min_len: int, max_len: int, p_minus_one: float) -> None:
    """Raise ValueError naming the first argument out of its range."""
    _check_int("N", N, 1)
    _check_int("min_len", min_len, 1)
    _check_int("max_len", max_len, 1)
    if min_len > max_len:
        raise ValueError(f"min_len must be <= max_len, got min_len={min_len} > max_len={max_len}")
    _check_probability(p_minus_one)


def _check_probability(p: object) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not (0.0 <= p <= 1.0):
        raise ValueError(f"p_minus_one must be a probability in [0, 1], got {p!r}")


def make_datum(
    size: int, rng: np.random.Generator | None = None, *, p_minus_one: float = P_MINUS_ONE
) -> tuple[np.ndarray, int]:
    """One sequence x of shape (size, 1) and its label y (1 if it holds a -1)."""
    _check_int("size", size, 1)
    _check_probability(p_minus_one)
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
    min_len: int = MIN_LEN,
    max_len: int = MAX_LEN,
    p_minus_one: float = P_MINUS_ONE,
) -> tuple[np.ndarray, np.ndarray]:
    """N sequences of one random length: X (N, T, 1) int64 and Y (N, 1) int64."""
    check_args(N, min_len, max_len, p_minus_one)
    rng = _rng(rng)
    T = int(rng.integers(min_len, max_len + 1))
    # one draw for everything: T digits, then "holds a -1", then where. floor(10 u) is uniform
    # over 0..9, and twice as fast as rng.integers for batches this small (measured).
    u = rng.random((N, T + 2))
    X = (u[:, :T, None] * 10).astype(np.int64)  # (N, T, 1)
    has = u[:, T] < p_minus_one  # (N,)
    X[has, (u[has, T + 1] * T).astype(np.int64), 0] = -1
    return X, has[:, None].astype(np.int64)


def seen_so_far(X: np.ndarray) -> np.ndarray:
    """Per-step target (N, T, 1): 1 from the step a -1 arrives onwards."""
    return np.maximum.accumulate(X == -1, axis=1).astype(np.float32)
