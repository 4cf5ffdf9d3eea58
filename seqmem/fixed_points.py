"""Fixed points of a trained network: the states s with F(s, x) = s under a constant input digit x.

The method of Sussillo & Barak 2013 ("Opening the black box") and Golub & Sussillo 2018
(FixedPointFinder), written for these models: minimise q(s) = 1/2 |F(s, x) - s|^2 jointly from many
starting states (Adam), polish each minimum with Newton steps, keep those with q ~ 0 and merge
duplicates, then linearise: the Jacobian's eigenvalues say whether a point is stable (every
|lambda| < 1), a saddle or unstable, and how fast it pulls, tau = -1 / ln |lambda|. Where no
fixed point exists, the slowest points (smallest q) are reported instead.

Periodic orbits the same way (find_cycles): a period-k orbit s_0 -> s_1 -> ... -> s_0 is a fixed
point of F^k that F alone does not fix. Its stability is that of F^k, whose Jacobian is the
product of F's along the orbit, J(s_{k-1}) ... J(s_0): its eigenvalues are the orbit's Floquet
multipliers, the same from every state of it.

A state is flat, (D,): every layer's h, then every layer's c for an LSTM. Work is in float64, on
a copy of the model, so that points and eigenvalues come out to 1e-10, not float32's 1e-7.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from typing import NamedTuple

import numpy as np
import torch

from seqmem.data import check_batch
from seqmem.model import SequenceClassifier, one_thread
from seqmem.optim import Adam


class _Linearised:
    """What the eigenvalues of a point's (or an orbit's) linearisation say."""

    eigenvalues: np.ndarray  # (D,) complex, largest |lambda| first

    @property
    def period(self) -> int:
        """The steps of F that the eigenvalues are of: 1 for a point."""
        return 1

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
        """Steps (of F, not of F^k) for the slowest direction to shrink by e, -k / ln |lambda|_max (inf at 1)."""
        m = self.max_abs
        return math.inf if m >= 1 else -self.period / math.log(m) if m > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class FixedPoint(_Linearised):
    """A fixed (or slow) point: its state, speed q, decision P = head(h), and linearisation."""

    state: np.ndarray  # (D,)
    q: float
    p: float
    eigenvalues: np.ndarray  # (D,) complex, largest |lambda| first


@dataclasses.dataclass(frozen=True)
class Orbit(_Linearised):
    """A periodic orbit s_0 -> ... -> s_{k-1} -> s_0 of F(., x): its states, q of F^k, decisions, multipliers."""

    states: np.ndarray  # (k, D): s_0 is the state with the highest P, then F(s_0), ...
    q: float  # |F^k(s_0) - s_0|^2 / 2
    ps: np.ndarray  # (k,) P = head(h) at each state
    eigenvalues: np.ndarray  # (D,) complex Floquet multipliers (of F^k), largest first

    @property
    def period(self) -> int:
        """k, the steps of F that bring the state back."""
        return len(self.states)


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

    def orbit(self, z: torch.Tensor, x: float | torch.Tensor, k: int) -> torch.Tensor:
        """z and its next k - 1 states under x, (k, N, D)."""
        out = [z]
        with torch.no_grad():
            for _ in range(k - 1):
                out.append(self.step(out[-1], x))
        return torch.stack(out)

    def monodromy(self, z: torch.Tensor, x: float | torch.Tensor, k: int) -> torch.Tensor:
        """dF^k/dz at each state, (N, D, D): the product J(s_{k-1}) ... J(s_0) along its next k states."""
        out = self.jacobian(z, x)
        for s in self.orbit(z, x, k)[1:]:  # one state's Jacobians at a time: no more memory than for k = 1
            out = self.jacobian(s, x) @ out
        return out

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


def returned(dyn: Dynamics, z: torch.Tensor, x: float | torch.Tensor, k: int = 1) -> torch.Tensor:
    for _ in range(k):
        z = dyn.step(z, x)
    return z  # F^k(z), (N, D)


def speed(dyn: Dynamics, z: torch.Tensor, x: float | torch.Tensor, k: int = 1) -> torch.Tensor:
    return 0.5 * ((returned(dyn, z, x, k) - z) ** 2).sum(1)  # q of F^k, (N,)


class Found(NamedTuple):
    """What the search found under one input."""

    fixed: list[FixedPoint]  # distinct fixed points, slowest-converging first
    slow: list[FixedPoint]  # where there is no fixed point: the slowest points
    converged: float  # share of the starts whose search ended at a fixed point


def find(model: SequenceClassifier, x: float, starts: np.ndarray, **settings) -> tuple[list[FixedPoint],
                                                                                        list[FixedPoint]]:
    """(fixed points, slowest points) of `model` under input x, from starting states (N, D): find_all for one input."""
    return find_all(model, [x], starts, **settings)[x][:2]


def on_one_thread(search):
    """The search, run on one torch thread."""
    # small float64 steps run faster so (a second thread on a busy 2-core machine made them 30x
    # slower), and the bits do not depend on the core count
    @functools.wraps(search)
    def run(*args, **kwargs):
        with one_thread():
            return search(*args, **kwargs)
    return run


@on_one_thread
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
        speed(dyn, z, x).sum().backward()
        opt.step()
    z = polish(dyn, z.detach(), x, 1, newton, q_tol)
    with torch.no_grad():
        q = speed(dyn, z, x)
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


def polish(dyn: Dynamics, z: torch.Tensor, x: torch.Tensor, k: int, newton: int, q_tol: float) -> torch.Tensor:
    """Up to `newton` Newton steps on F^k(z) = z for each row of z (N, D), in place; unhelpful ones are not taken."""
    eye = torch.eye(dyn.dim, dtype=torch.float64)
    active = torch.arange(len(z))  # rows still worth a Newton step
    for _ in range(newton):
        zs, xs = z[active], x[active]
        with torch.no_grad():
            r, q = returned(dyn, zs, xs, k) - zs, speed(dyn, zs, xs, k)
        # gelsy: QR with column pivoting, rank-revealing like gelsd's SVD and 4-5x faster here
        step = torch.linalg.lstsq(dyn.monodromy(zs, xs, k) - eye, r[..., None], driver="gelsy").solution[..., 0]
        with torch.no_grad():
            q_new = speed(dyn, zs - step, xs, k)
        better = q_new < q
        z[active[better]] = (zs - step)[better]
        # converged to float64's resolution, or stuck: no more steps for that row
        active = active[better & (q_new > q_tol * 1e-12)]
        if not len(active):
            break
    return z


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
