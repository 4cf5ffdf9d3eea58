"""The inference kernel: a trained model's P(a -1 was seen) at every step, compiled by numba.

Why not torch's own RNN kernels: under the pin (seqmem.core.numerics) they spend 0.4-0.6 us a
sequence-step, much of it in an elementwise tanh of 4.6 ns a float; this runs an RNN about twice
as fast, an LSTM a little faster (docs/timings.md). Why the bits are the same on every x86-64 CPU: every
operation is an IEEE multiply, add, divide, min or max in an order the source fixes (numba does
not reassociate or fuse into FMA without fastmath), and tanh and exp are rational and polynomial
functions of those, not libm calls, so AVX2 and AVX-512 code agree. The SIMD lanes are one
sequence's gate rows (four sequences at a time share each weight load); sequences are independent,
so a sequence's bits do not depend on which others share its batch or its group of four, on the
time chunking, or on the thread count.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from seqmem import kernel_cache

KINDS = {"rnn": 0, "lstm": 1, "gru": 2}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
F32 = np.float32


KERNEL_CACHE = kernel_cache.install(__file__)  # where numba keeps the compiled _run: one folder per machine
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_INV_FACTORIAL = tuple(1.0 / math.factorial(d) for d in range(14))
_POW2_FROM = -58  # 2**k for every k _exp can meet: -58..1076, inf from 1024 on
_POW2 = np.array([math.ldexp(1.0, k) if k < 1024 else math.inf for k in range(_POW2_FROM, 1077)])


@nb.njit(inline="always")
def _tanh(x):
    """tanh to a few float32 ulp: Eigen's rational approximation, in IEEE operations only."""
    c = F32(7.90531110763549805)  # tanh is 1.0f from here on
    x = min(max(x, -c), c)
    x2 = x * x
    p = F32(-2.76076847742355e-16)
    p = p * x2 + F32(2.00018790482477e-13)
    p = p * x2 + F32(-8.60467152213735e-11)
    p = p * x2 + F32(5.12229709037114e-08)
    p = p * x2 + F32(1.48572235717979e-05)
    p = p * x2 + F32(6.37261928875436e-04)
    p = p * x2 + F32(4.89352455891786e-03)
    q = F32(1.19825839466702e-06)
    q = q * x2 + F32(1.18534705686654e-04)
    q = q * x2 + F32(2.26843463243900e-03)
    q = q * x2 + F32(4.89352518554385e-03)
    return x * p / q


@nb.njit(inline="always")
def _sigmoid(x):
    return F32(0.5) * _tanh(F32(0.5) * x) + F32(0.5)


@nb.njit(inline="always")
def _exp(x):
    """e**x for sigmoid, in float64, from IEEE operations and a table of powers of two, so that a loop
    of it vectorizes: x = k ln2 + r, |r| <= ln2 / 2, then Taylor to r**13 (error ~1e-16)."""
    x = min(max(x, -40.0), 746.0)  # below -40, 1 + e**x is 1.0 in float64 anyway; above 709, inf
    k = np.floor(x * 1.4426950408889634 + 0.5)
    r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10  # ln2 in two parts: r exact
    p = _INV_FACTORIAL[13]
    for d in range(12, -1, -1):  # Horner: the sum of r**d / d!, d = 0..13
        p = p * r + _INV_FACTORIAL[d]
    return p * _POW2[int(k) - _POW2_FROM]


@nb.njit(inline="always")
def _decision(z):
    """P = sigmoid(z) in float64: the same value wherever z sits in the output, unlike torch's vector kernels."""
    return 1.0 / (1.0 + _exp(-z))


@nb.njit(inline="always")
def _affine(a, s, w, b, inp, n, layer, src):
    """a[s] (G,) = b[layer] + w[layer]^T inp[n, src]. No array views in the hot loop (each costs two
    atomics); j outermost, so the G rows vectorize and never wait on each other."""
    G = a.shape[1]
    for i in range(G):
        a[s, i] = b[layer, i]
    for j in range(inp.shape[2]):
        v = F32(inp[n, src, j])
        for i in range(G):
            a[s, i] += w[layer, j, i] * v


@nb.njit(inline="always")
def _inputs(kind, a, s, w, bi, bh, inp, n, layer, src):
    """a[s] (G,) = (b_ih + W_ih x) + b_hh, the recurrent part's bias added first; a GRU's b_hh stays with
    its recurrent part. Layer 0's input is one number: one pass over a, not three (loads and stores
    are what cost here), with the same sums in the same order."""
    G = a.shape[1]
    if kind == 2:
        _affine(a, s, w, bi, inp, n, layer, src)
    elif inp.shape[2] == 1:
        v = F32(inp[n, src, 0])
        for i in range(G):
            a[s, i] = (bi[layer, i] + w[layer, 0, i] * v) + bh[layer, i]
    else:
        _affine(a, s, w, bi, inp, n, layer, src)
        for i in range(G):
            a[s, i] += bh[layer, i]


@nb.njit(inline="always")
def _accumulate(a, w, h, n, layer):
    """a[0] (G,) += w[layer]^T h[n, layer], four j at a time: the same sums in the same order as one j
    at a time (left to right), with a quarter of the loop overhead and of a's loads and stores."""
    G, J = a.shape[1], h.shape[2]  # J a multiple of 8
    for j in range(0, J, 4):
        v0, v1, v2, v3 = h[n, layer, j], h[n, layer, j + 1], h[n, layer, j + 2], h[n, layer, j + 3]
        for i in range(G):
            a[0, i] = a[0, i] + w[layer, j, i] * v0 + w[layer, j + 1, i] * v1 + w[layer, j + 2, i] * v2 \
                + w[layer, j + 3, i] * v3


@nb.njit(inline="always")
def _accumulate4(a, w, h, n, layer):
    """_accumulate for the four sequences n .. n + 3 into a[0 .. 3], each the same sums in the same order:
    every weight is loaded once for four products, and four independent chains hide each add's latency.
    The products alone run 1.4-1.7x as fast as one sequence at a time (docs/timings.md)."""
    G, J = a.shape[1], h.shape[2]
    for j in range(0, J, 4):
        p0, p1, p2, p3 = h[n, layer, j], h[n, layer, j + 1], h[n, layer, j + 2], h[n, layer, j + 3]
        q0, q1, q2, q3 = h[n + 1, layer, j], h[n + 1, layer, j + 1], h[n + 1, layer, j + 2], h[n + 1, layer, j + 3]
        r0, r1, r2, r3 = h[n + 2, layer, j], h[n + 2, layer, j + 1], h[n + 2, layer, j + 2], h[n + 2, layer, j + 3]
        u0, u1, u2, u3 = h[n + 3, layer, j], h[n + 3, layer, j + 1], h[n + 3, layer, j + 2], h[n + 3, layer, j + 3]
        for i in range(G):
            w0, w1, w2, w3 = w[layer, j, i], w[layer, j + 1, i], w[layer, j + 2, i], w[layer, j + 3, i]
            a[0, i] = a[0, i] + w0 * p0 + w1 * p1 + w2 * p2 + w3 * p3
            a[1, i] = a[1, i] + w0 * q0 + w1 * q1 + w2 * q2 + w3 * q3
            a[2, i] = a[2, i] + w0 * r0 + w1 * r1 + w2 * r2 + w3 * r3
            a[3, i] = a[3, i] + w0 * u0 + w1 * u1 + w2 * u2 + w3 * u3


@nb.njit(inline="always")
def _cell(kind, a, s, ah, h, c, n, layer):
    """The new state h[n, layer] (and an LSTM's c) from the pre-activations a[s] (and a GRU's ah[0])."""
    H = h.shape[2]
    if kind == 0:  # h = tanh(W_ih x + b_ih + W_hh h + b_hh)
        for i in range(H):
            h[n, layer, i] = _tanh(a[s, i])
    elif kind == 1:  # gates in torch's order: input, forget, cell, output
        for i in range(H):
            ig = _sigmoid(a[s, i])
            fg = _sigmoid(a[s, H + i])
            gg = _tanh(a[s, 2 * H + i])
            og = _sigmoid(a[s, 3 * H + i])
            c[n, layer, i] = fg * c[n, layer, i] + ig * gg
            h[n, layer, i] = og * _tanh(c[n, layer, i])
    else:  # torch's GRU: reset, update, new
        for i in range(H):
            r = _sigmoid(a[s, i] + ah[0, i])
            u = _sigmoid(a[s, H + i] + ah[0, H + i])
            g = _tanh(a[s, 2 * H + i] + r * ah[0, 2 * H + i])
            h[n, layer, i] = (F32(1.0) - u) * g + u * h[n, layer, i]


@nb.njit(inline="always")
def _head(w, b, h, n, top, acc):
    """b + w . h[n, top] in eight fixed partial sums (one running sum waits ~4 cycles an add), then a fixed tree."""
    acc[:] = 0
    for i0 in range(0, h.shape[2], 8):
        for k in range(8):
            acc[k] += w[i0 + k] * h[n, top, i0 + k]
    return b + (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))


# numpy error model: IEEE division, no zero check to block SIMD. Cached only as seqmem.kernels: an entry names
# its module, and one compiled under another name (a file loaded by path) is "<dynamic>" to numba, which no
# later process can import, so loading it would crash every process after (it did: scripts/fingerprint.py)
@nb.njit(nogil=True, cache=__name__ == "seqmem.kernels", error_model="numpy")
def _run(kind, X, rows, t0, T, out, Wi, Wh, bi, bh, w_head, b_head, h, c):  # pragma: no cover (compiled)
    """out[n] = P(a -1 was seen) at steps t0 .. t0 + T of X[n] (N, T_all, 1), for n in rows, from and into
    the state h, c (N, L, H); or, where out is (N, 1), at the last of them alone (no head at the others).
    X is read in place, int64 or float32, so nothing is converted first.

    Sequences go four at a time (a GRU's, and the last few, one at a time); each sequence's operations
    are the same either way. H is the hidden size padded to a multiple of 8 with units whose weights
    are all zero: they stay at 0 (tanh(0), or an LSTM's 0.5 * 0 + 0.5 * 0) and add exact zeros to every sum.
    """
    every = out.shape[1] == T  # else only the last step
    L = Wh.shape[0]
    a = np.empty((4, Wh.shape[2]), F32)  # the gates' pre-activations, one row per sequence of the group
    ah = np.empty((1, Wh.shape[2]), F32)  # a GRU's recurrent part, apart
    acc = np.empty(8, F32)
    n = rows[0]
    while n < rows[1]:
        width = 4 if kind != 2 and n + 4 <= rows[1] else 1
        for t in range(T):
            for layer in range(L):
                for s in range(width):  # layer 0 reads X (its input_size is 1), the others the layer below
                    if layer == 0:
                        _inputs(kind, a, s, Wi, bi, bh, X, n + s, 0, t0 + t)
                    else:
                        _inputs(kind, a, s, Wi, bi, bh, h, n + s, layer, layer - 1)
                if width == 4:  # the recurrent part straight into a: (W_ih x + b_ih) + b_hh + W_hh h
                    _accumulate4(a, Wh, h, n, layer)
                elif kind != 2:
                    _accumulate(a, Wh, h, n, layer)
                else:  # a GRU's reset gate scales the recurrent part of its new state alone
                    _affine(ah, 0, Wh, bh, h, n, layer, layer)
                for s in range(width):
                    _cell(kind, a, s, ah, h, c, n + s, layer)
            if every or t == T - 1:
                for s in range(width):
                    out[n + s, t if every else 0] = _head(w_head, b_head, h, n + s, L - 1, acc)  # the logit, for now
        for s in range(width):
            for t in range(out.shape[1]):  # apart from the recurrence, so that the steps fill the SIMD lanes
                out[n + s, t] = _decision(out[n + s, t])
        n += width


class Kernel:
    """One model's weights, packed for _run, and the recurrent state of N sequences between calls."""

    def __init__(self, flavor: str, state_dict: dict[str, np.ndarray], hidden_size: int, num_layers: int, n: int):
        H, L, gates = hidden_size, num_layers, GATES[flavor]
        P = -(-H // 8) * 8  # padded: zero units up to a multiple of 8
        G = gates * P
        self.kind = KINDS[flavor]
        self.Wi = np.zeros((L, P, G), F32)  # (layer, input unit, gate row): transposed, so rows are contiguous
        self.Wh = np.zeros((L, P, G), F32)
        self.bi, self.bh = np.zeros((L, G), F32), np.zeros((L, G), F32)
        for k in range(L):
            w_ih, w_hh = state_dict[f"rnn.weight_ih_l{k}"], state_dict[f"rnn.weight_hh_l{k}"]  # (gates H, in or H)
            b_ih, b_hh = state_dict[f"rnn.bias_ih_l{k}"], state_dict[f"rnn.bias_hh_l{k}"]
            for g in range(gates):  # gate g's H rows go to padded rows g P .. g P + H
                rows, to = slice(g * H, (g + 1) * H), slice(g * P, g * P + H)
                self.Wi[k, : w_ih.shape[1], to] = w_ih[rows].T
                self.Wh[k, :H, to] = w_hh[rows].T
                self.bi[k, to], self.bh[k, to] = b_ih[rows], b_hh[rows]
        self.w_head = np.zeros(P, F32)
        self.w_head[:H] = state_dict["head.0.weight"][0]
        self.b_head = F32(state_dict["head.0.bias"][0])
        self.h = np.zeros((n, L, P), F32)
        self.c = np.zeros((n, L, P), F32)  # an LSTM's cell state; unused otherwise

    def decisions(self, X: np.ndarray, t0: int, steps: int, last: bool = False) -> np.ndarray:
        """P(a -1 was seen) (N, steps) float64 at steps t0 .. t0 + steps of X (N, T, 1), C-contiguous
        int64 or float32, carrying on from the state the previous call left; (N, 1) at the last step if `last`.

        The rows go in one contiguous block per core, each on a thread of its own (the kernel
        releases the GIL); a sequence's bits do not depend on its block.
        """
        N = X.shape[0]
        out = np.empty((N, 1 if last else steps))
        weights = (self.Wi, self.Wh, self.bi, self.bh, self.w_head, self.b_head, self.h, self.c)
        groups = -(-N // 4)  # the blocks cut between groups of four, so that only the last has a remainder
        cuts = np.minimum(np.round(np.linspace(0, groups, min(groups, WORKERS) + 1)).astype(np.int64) * 4, N)
        blocks = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
        def run() -> None:
            if len(blocks) <= 1:
                _run(self.kind, X, (0, N), t0, steps, out, *weights)
            else:
                with ThreadPoolExecutor(len(blocks)) as pool:
                    for f in [pool.submit(_run, self.kind, X, b, t0, steps, out, *weights) for b in blocks]:
                        f.result()

        kernel_cache.repairing(run, KERNEL_CACHE)  # a broken cache entry is rebuilt, not a crash
        return out
