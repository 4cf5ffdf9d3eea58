"""A trained model's decisions at every step, from its weights alone: no torch, so a stage that only
infers (evaluate, seqmem-probe) starts in a fraction of the time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from seqmem.checkpoint import Checkpoint
from seqmem.data import check_batch

if TYPE_CHECKING:  # a SequenceClassifier is welcome, but importing its module would import torch
    from seqmem.model import SequenceClassifier

# output floats per kernel call: long sequences go in time chunks, so memory stays bounded
CHUNK_FLOATS = 1 << 24


def decision_chunks(model: Checkpoint | SequenceClassifier, X: np.ndarray, floats: int | None = None,
                    last: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """(t, P(a -1 was seen) at steps t .. t + span, (N, span) float64) for consecutive time chunks of
    about `floats` outputs each (CHUNK_FLOATS); with `last`, one chunk (T - 1, (N, 1)): the last step alone.

    seqmem.kernels computes them (compiled, on every core, the same bits on every CPU, whatever the
    chunking); the recurrent state is carried from chunk to chunk, so memory stays bounded. They
    agree with SequenceClassifier.forward() to float32 rounding (~1e-7).
    """
    X = np.asarray(X)  # (N, T, 1); the kernel reads int64 (make_data's) or float32 in place
    check_batch(X.shape, "X")
    from seqmem.kernels import Kernel  # numba loads only where decisions are computed

    X = np.ascontiguousarray(X if X.dtype in (np.int64, np.float32) else X.astype(np.float32))
    N, T = X.shape[:2]
    if last and T == 0:
        raise ValueError("sequences of no steps have no last decision")
    ckpt = model if isinstance(model, Checkpoint) else model.checkpoint()
    kernel = Kernel(ckpt.flavor, ckpt.state_dict, ckpt.hidden_size, ckpt.num_layers, N)
    span = max(1, (floats or CHUNK_FLOATS) // max(N, 1))  # time steps per chunk
    for t in range(0, T, span):
        steps = min(span, T - t)
        out = kernel.decisions(X, t, steps, last=last)  # with last, only the final chunk's counts
        if not last or t + steps == T:
            yield (T - 1 if last else t), out


def decisions(model: Checkpoint | SequenceClassifier, X: np.ndarray, progress: Callable[[int], None] | None = None,
              last: bool = False) -> np.ndarray:
    """P(a -1 was seen) at every step, (N, T) float64, in bounded memory; at the last step alone, (N,), if `last`.

    decision_chunks' chunks put together. `progress(steps)` is called after each chunk.
    """
    X = np.asarray(X)
    check_batch(X.shape, "X")
    N, T = X.shape[:2]
    out = None
    for t, chunk in decision_chunks(model, X, last=last):
        if last:
            out = chunk[:, 0]
        elif chunk.shape[1] == T:  # one chunk: no copy
            out = chunk
        else:
            if out is None:
                out = np.empty((N, T))
            out[:, t : t + chunk.shape[1]] = chunk
        if progress:
            progress(T if last else t + chunk.shape[1])
    return np.empty((N, T)) if out is None else out  # None: no steps
