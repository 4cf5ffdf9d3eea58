"""The task: integer sequences (values 0..9) that may hold a single -1."""

from __future__ import annotations

import math
import numbers

import numpy as np

from seqmem.core.config import ConfigError, Sequences


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


def check_count(name: str, value: object) -> None:
    """A count of sequences or steps: an integer >= 1 (True is a bug, not a 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(name, f"must be an integer >= 1, got {value!r}")


def check_batch(shape: tuple[int, ...], name: str = "x") -> None:
    """A batch of sequences is (N, T, 1); one sequence, (T, 1) as make_datum gives it or (T,), is refused, saying how.

    torch reads a 2-D input as one unbatched sequence, so a model would return every step's decision as
    its "final" one: a wrong answer of the right look. Refusing is the one rule that can't be misread.
    """
    if len(shape) == 3 and shape[2] == 1:
        return
    if len(shape) == 2 and shape[1] == 1:
        raise ValueError(f"{name} has shape {shape}: one sequence, as make_datum gives it; models and decisions() "
                         f"take a batch (N, T, 1): pass {name}[None], a batch of one")
    if len(shape) == 1:
        raise ValueError(f"{name} has shape {shape}: a bare sequence; models and decisions() take a batch (N, T, 1): "
                         f"pass {name}[None, :, None], a batch of one")
    raise ValueError(f"{name} has shape {shape}; models and decisions() take a batch of sequences, (N, T, 1)")


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


def _digits(N: int, rng: np.random.Generator, spec: Sequences) -> tuple[np.ndarray, np.ndarray, int]:
    """A batch's digits X (N, T, 1), the two uniforms after each row's digits (N, 2), and its length T.

    One draw for everything: each row's T digits, then "holds a -1", then where. floor(10 u) is
    uniform over 0..9, and twice as fast as rng.integers for batches this small. The uniforms come
    in blocks of rows (the same stream as one draw of (N, T + 2)) and go straight into X, so a long
    set makes no temporaries the size of X: fresh memory costs a page fault per 4 KB on these VMs.
    """
    T = int(rng.integers(spec.min_len, spec.max_len + 1))
    X, tail = np.empty((N, T, 1), np.int64), np.empty((N, 2))
    rows = max(1, (1 << 17) // (T + 2))  # ~1 MB of uniforms at a time
    for r in range(0, N, rows):
        u = rng.random((min(rows, N - r), T + 2))  # (rows, T + 2)
        np.multiply(u[:, :T, None], 10, out=X[r : r + len(u)], casting="unsafe")  # float64 product, truncated
        tail[r : r + len(u)] = u[:, T:]
    return X, tail, T


def draw(N: int, rng: np.random.Generator, spec: Sequences) -> tuple[np.ndarray, np.ndarray]:
    """make_data for a spec that is already checked (any config is): no checks in the training loop."""
    X, u, T = _digits(N, rng, spec)  # (N, T, 1), (N, 2)
    has = u[:, 0] < spec.p_minus_one  # (N,)
    X[has, (u[has, 1] * T).astype(np.int64), 0] = -1
    return X, has[:, None].astype(np.int64)


class Streams:
    """Training batches whose rows run on: each row's sequence spans 1..`carry` batches.

    A row's span is log-uniform (short ones common, long ones present), and it holds at most one
    -1 (with chance p_minus_one), at a uniform batch and step. The trainer carries the recurrent
    state of running rows and zeroes that of `fresh` ones. With carry 1 each batch is draw()'s, bit for bit.
    """

    def __init__(self, N: int, rng: np.random.Generator, spec: Sequences, carry: int = 1):
        self.N, self.rng, self.spec, self.carry = N, rng, spec, carry
        self.left = np.zeros(N, np.int64)  # batches left in each row's sequence
        self.pending = np.zeros(N, bool)  # holds a -1 that has not come yet
        self.seen = np.zeros(N, bool)  # the -1 has come

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """X (N, T, 1) int64, target 'a -1 seen so far' (N, T, 1) float32, fresh (N,) bool."""
        rng, spec, N = self.rng, self.spec, self.N
        X, u, T = _digits(N, rng, spec)  # draw()'s batch: (N, T, 1), (N, 2)
        fresh = self.left == 0
        if self.carry > 1:  # floor(e^(u ln(c+1))) is log-uniform over 1..c
            self.left[fresh] = np.exp(rng.random(fresh.sum()) * math.log(self.carry + 1)).astype(np.int64)
        else:
            self.left[fresh] = 1
        self.pending[fresh] = u[fresh, 0] < spec.p_minus_one
        self.seen[fresh] = False
        now = self.pending.copy()
        if self.carry > 1:  # chance 1/left in each batch: uniform over the row's batches
            now &= rng.random(N) * self.left < 1
        X[now, (u[now, 1] * T).astype(np.int64), 0] = -1
        self.pending &= ~now
        target = seen_so_far(X) | self.seen[:, None, None]  # (N, T, 1)
        self.seen = target[:, -1, 0].copy()
        self.left -= 1
        return X, target.astype(np.float32), fresh


def seen_so_far(X: np.ndarray) -> np.ndarray:
    """'A -1 was seen' at each step, bool like X: True from the step a -1 arrives onwards."""
    return np.maximum.accumulate(X == -1, axis=1)
