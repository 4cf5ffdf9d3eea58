"""Fixed points of a trained network: the states s with F(s, x) = s under a constant input digit x.

The method of Sussillo & Barak 2013 ("Opening the black box") and Golub & Sussillo 2018
(FixedPointFinder), written for these models: minimise q(s) = 1/2 |F(s, x) - s|^2 jointly from many
starting states (Adam), polish each minimum with Newton steps, keep those with q ~ 0 and merge
duplicates, then linearise: the Jacobian's eigenvalues say whether a point is stable (every
|lambda| < 1), a saddle or unstable, and how fast it pulls, tau = -1 / ln |lambda|. Where no
fixed point exists, the slowest points (smallest q) are reported instead.

A state is flat, (D,): every layer's h, then every layer's c for an LSTM. Work is in float64, on
a copy of the model, so that points and eigenvalues come out to 1e-10, not float32's 1e-7.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import NamedTuple

import numpy as np
import torch

from seqmem.data import check_batch
from seqmem.model import SequenceClassifier
from seqmem.optim import Adam


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed (or slow) point: its state, speed q, decision P = head(h), and linearisation."""

    state: np.ndarray  # (D,)
    q: float
    p: float
    eigenvalues: np.ndarray  # (D,) complex, largest |lambda| first

    @property
    def max_abs(self) -> float:
        """The largest |lambda|: below 1, perturbations die out."""
        return float(abs(self.eigenvalues[0]))

    @property
    def kind(self) -> str:
        """stable, marginal (|lambda| = 1: a line attractor), saddle or unstable."""
        mags = np.abs(self.eigenvalues)
        if abs(mags[0] - 1) < 1e-9:
            return "marginal"
        if mags[0] < 1:
            return "stable"
        return "unstable" if mags[-1] > 1 else "saddle"

    @property
    def time_constant(self) -> float:
        """Steps for the slowest direction to shrink by e, -1 / ln |lambda|_max (inf at |lambda| = 1)."""
        m = self.max_abs
        return math.inf if m >= 1 else -1 / math.log(m) if m > 0 else 0.0


class Dynamics:
    """One recurrent step F(s, x) of a model, on flat states (N, D), in float64."""

    def __init__(self, model: SequenceClassifier):
        self.model = copy.deepcopy(model).double().eval().requires_grad_(False)  # gradients in z only: half the work
        self.layers, self.hidden = model.num_layers, model.hidden_size
        self.lstm = model.flavor == "lstm"
        self.dim = self.layers * self.hidden * (2 if self.lstm else 1)

    def _unflat(self, z: torch.Tensor):
        parts = z.reshape(len(z), -1, self.layers, self.hidden).permute(1, 2, 0, 3)  # (kinds, L, N, H)
        return (parts[0].contiguous(), parts[1].contiguous()) if self.lstm else parts[0].contiguous()

    def _flat(self, state) -> torch.Tensor:
        parts = torch.stack(state) if self.lstm else state[None]  # (kinds, L, N, H)
        return parts.permute(2, 0, 1, 3).reshape(parts.shape[2], self.dim)

    def step(self, z: torch.Tensor, x: float | torch.Tensor) -> torch.Tensor:
        """F(z, x): one step from each state under input x (a number, or one per state (N,)), (N, D)."""
        inp = torch.as_tensor(x, dtype=torch.float64).expand(len(z)).reshape(len(z), 1, 1)
        return self._flat(self.model.rnn(inp, self._unflat(z))[1])

    def decision(self, z: torch.Tensor) -> torch.Tensor:
        """P(a -1 was seen) = head(top layer's h), (N,)."""
        top = z[:, (self.layers - 1) * self.hidden : self.layers * self.hidden]
        return self.model.head(top)[:, 0]

    def jacobian(self, z: torch.Tensor, x: float | torch.Tensor) -> torch.Tensor:
        """dF/dz at each state, (N, D, D): one backward pass per output unit, all states at once."""
        z = z.detach().requires_grad_(True)
        out = self.step(z, x)
        rows = [torch.autograd.grad(out[:, i].sum(), z, retain_graph=i < self.dim - 1)[0] for i in range(self.dim)]
        return torch.stack(rows, 1)

    def states(self, X: np.ndarray) -> np.ndarray:
        """The flat state after every step of sequences X (N, T, 1): (N * T, D), for starting points."""
        check_batch(np.shape(X), "X")
        x = torch.as_tensor(np.asarray(X), dtype=torch.float64)
        out, state = [], None
        with torch.no_grad():
            for t in range(x.shape[1]):
                _, state = self.model.rnn(x[:, t : t + 1], state)
                out.append(self._flat(state))
        return torch.cat(out).numpy()


def _speed(dyn: Dynamics, z: torch.Tensor, x: float | torch.Tensor) -> torch.Tensor:
    return 0.5 * ((dyn.step(z, x) - z) ** 2).sum(1)  # q, (N,)


class Found(NamedTuple):
    """What the search found under one input."""

    fixed: list[FixedPoint]  # distinct fixed points, slowest-converging first
    slow: list[FixedPoint]  # where there is no fixed point: the slowest points
    converged: float  # share of the starts whose search ended at a fixed point


def find(model: SequenceClassifier, x: float, starts: np.ndarray, **settings) -> tuple[list[FixedPoint],
                                                                                        list[FixedPoint]]:
    """(fixed points, slowest points) of `model` under input x, from starting states (N, D): find_all for one input."""
    return find_all(model, [x], starts, **settings)[x][:2]


def find_all(model: SequenceClassifier, inputs: list[float], starts: np.ndarray, *, iters: int = 1000,
             lr: float = 1e-2, newton: int = 20, q_tol: float = 1e-14, merge_tol: float = 1e-6,
             slow: int = 3) -> dict[float, Found]:
    """{x: Found(fixed points, slowest points, converged share)} under each input x, from starting states (N, D).

    Every (input, start) pair is one row of one batch: Adam on the summed q for `iters` steps, then
    up to `newton` Newton steps per row (least squares, so a line of fixed points is fine). Rows
    do not interact, so this is the search per input, at the cost of one. Points with q < q_tol are
    fixed; those within merge_tol of a kept one are the same point. Where an input has no fixed
    point, its `slow` points with the smallest q are returned instead: where the dynamics crawl.
    """
    dyn, n = Dynamics(model), len(starts)
    x = torch.tensor(inputs, dtype=torch.float64).repeat_interleave(n)  # (K * N,)
    z = torch.tensor(np.asarray(starts, dtype=np.float64)).repeat(len(inputs), 1).requires_grad_(True)
    opt = Adam([z], lr=lr)  # seqmem's: torch.optim would import torch._dynamo (1.5 s)
    for _ in range(iters):
        opt.zero_grad()
        _speed(dyn, z, x).sum().backward()
        opt.step()
    z = z.detach()
    eye = torch.eye(dyn.dim, dtype=torch.float64)
    active = torch.arange(len(z))  # rows still worth a Newton step
    for _ in range(newton):
        zs, xs = z[active], x[active]
        with torch.no_grad():
            r, q = dyn.step(zs, xs) - zs, _speed(dyn, zs, xs)
        # gelsy: QR with column pivoting, rank-revealing like gelsd's SVD and 4-5x faster here
        step = torch.linalg.lstsq(dyn.jacobian(zs, xs) - eye, r[..., None], driver="gelsy").solution[..., 0]
        with torch.no_grad():
            q_new = _speed(dyn, zs - step, xs)
        better = q_new < q  # a Newton step that does not help is not taken
        z[active[better]] = (zs - step)[better]
        # converged to float64's resolution, or stuck: no more steps for that row
        active = active[better & (q_new > q_tol * 1e-12)]
        if not len(active):
            break
    with torch.no_grad():
        q = _speed(dyn, z, x)
    out = {}
    for k, value in enumerate(inputs):
        rows = torch.arange(k * n, (k + 1) * n)
        order = rows[torch.argsort(q[rows])]
        kept: list[int] = []
        for i in order[q[order] < q_tol].tolist():
            if all(torch.dist(z[i], z[j]) > merge_tol for j in kept):
                kept.append(i)
        fixed = _describe(dyn, z, q, kept, value)
        out[value] = Found(fixed, _describe(dyn, z, q, order[:slow].tolist(), value) if not fixed else [],
                           float((q[rows] < q_tol).double().mean()))
    return out


def _describe(dyn: Dynamics, z: torch.Tensor, q: torch.Tensor, idx: list[int], x: float) -> list[FixedPoint]:
    if not idx:
        return []
    pts = z[idx]
    eig = torch.linalg.eigvals(dyn.jacobian(pts, x)).detach().numpy()  # (K, D)
    with torch.no_grad():
        p = dyn.decision(pts)
    out = []
    for k, i in enumerate(idx):
        ev = eig[k][np.argsort(-np.abs(eig[k]), kind="stable")]
        out.append(FixedPoint(pts[k].numpy(), float(q[i]), float(p[k]), ev))
    return out
