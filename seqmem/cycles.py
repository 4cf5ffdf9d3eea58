"""Periodic orbits of a trained network: the states that k steps under a constant input digit bring back.

Where a network has no fixed point that holds its memory, it may hold it in a cycle: the README's
8-unit RNN hops between two corners of its state space at every step, under every digit
([why they remember](../docs/attractors.md)). find_cycles finds such orbits by multiple shooting,
polishes them with seqmem.fixed_points' Newton steps on F^k, and linearises them over the whole
orbit (Floquet multipliers): |mu| < 1 for all of them is a stable cycle.
"""

from __future__ import annotations

import numpy as np
import torch

from seqmem.fixed_points import Dynamics, Orbit, on_one_thread, polish, speed
from seqmem.model import SequenceClassifier
from seqmem.optim import Adam

CLUSTER = 1e-3  # guesses at orbits closer than this after Adam are one candidate for Newton
# a guess whose states have come this close (min over j of |s_j - s_0|) is collapsing onto a shorter
# orbit, most often a fixed point: it is dropped, every PRUNE_EVERY Adam steps. (So a cycle smaller
# than this, as one just born from a fixed point, is not looked for.)
COLLAPSED, PRUNE_EVERY = 1e-2, 25



@on_one_thread
def find_cycles(model: SequenceClassifier, inputs: list[float], starts: np.ndarray, period: int, *,
                iters: int = 1000, lr: float = 1e-2, newton: int = 20, q_tol: float = 1e-14,
                merge_tol: float = 1e-6) -> dict[float, list[Orbit]]:
    """{x: the orbits of least period `period` under each input x}, from starting states (N, D).

    Multiple shooting: a start and its next k - 1 states under x are one guess at an orbit, and Adam
    moves all k states at once to minimise sum_j |F(s_j, x) - s_{j+1}|^2 / 2 (s_k = s_0): k single
    steps in one batch, not F^k, whose gradient grows or shrinks along the orbit. Guesses that end
    within CLUSTER of one another are one candidate (most collapse onto fixed points); each gets
    Newton steps on F^k(s) = s. A state with q < q_tol that fewer than k steps bring back is a
    shorter orbit, found by find_all or a smaller period, and dropped; the rest merge per orbit.
    """
    if period < 2:
        raise ValueError(f"period must be >= 2 (find_all finds fixed points), got {period}")
    dyn, n, k = Dynamics(model), len(starts), period
    x = torch.tensor(inputs, dtype=torch.float64).repeat_interleave(n)  # (K * N,)
    first = torch.tensor(np.asarray(starts, dtype=np.float64)).repeat(len(inputs), 1)
    z = dyn.orbit(first, x, k).transpose(0, 1).contiguous().requires_grad_(True)  # (K * N, k, D)
    opt, active = Adam([z], lr=lr), torch.arange(len(z))  # guesses not yet collapsed onto a shorter orbit
    for t in range(iters):
        if t % PRUNE_EVERY == 0:
            active = active[_spread(z.detach()[active]) > COLLAPSED]
            if not len(active):
                break
        opt.zero_grad()  # a dropped guess gets no gradient: it costs nothing, and is not a candidate
        (_shooting(dyn, z[active], x[active]).sum()).backward()
        opt.step()
    z, out = z.detach(), {v: [] for v in inputs}
    active = active[_spread(z[active]) > COLLAPSED]
    if not len(active):
        return out
    with torch.no_grad():
        order = active[torch.argsort(_shooting(dyn, z[active], x[active]))]  # nearest an orbit first
    # per input, one guess per cluster: most clusters are guesses still collapsing onto one fixed point
    rows = torch.tensor([i for v in inputs for i in _distinct(z[:, 0], z, order[x[order] == v].tolist(), CLUSTER)],
                        dtype=torch.long)
    s = polish(dyn, z[rows, 0].clone(), x[rows], k, newton, q_tol)
    with torch.no_grad():
        q = speed(dyn, s, x[rows], k)
    orbits = dyn.orbit(s, x[rows], k).transpose(0, 1)  # (C, k, D)
    # fixed by F^k, but back in fewer than k steps: a shorter orbit, not this period's
    shorter = ((orbits[:, 1:] - orbits[:, :1]).norm(dim=2) <= merge_tol).any(1)
    for v in inputs:
        mine = [j for j in torch.argsort(q).tolist() if x[rows[j]] == v and q[j] < q_tol and not shorter[j]]
        out[v] = _describe_orbits(dyn, orbits, _distinct(orbits[:, 0], orbits, mine, merge_tol), v)
    return out


def _shooting(dyn: Dynamics, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_j |F(s_j, x) - s_{j+1}|^2 / 2 of each guess z (N, k, D), s_k = s_0: (N,)."""
    out = dyn.step(z.reshape(-1, dyn.dim), x.repeat_interleave(z.shape[1])).reshape(z.shape)  # F(s_j)
    return 0.5 * ((out - z.roll(-1, 1)) ** 2).sum((1, 2))


def _spread(z: torch.Tensor) -> torch.Tensor:
    """How far each guess (N, k, D) is from collapsing onto a shorter orbit: min over j of |s_j - s_0|, (N,)."""
    return (z[:, 1:] - z[:, :1]).norm(dim=2).amin(1)


def _distinct(first: torch.Tensor, orbits: torch.Tensor, order: list[int], tol: float) -> list[int]:
    """The rows i of `order` whose first[i] (D,) lies farther than tol from every state of each earlier kept one."""
    kept: list[int] = []
    for i in order:
        if not kept or (orbits[kept] - first[i]).norm(dim=2).min() > tol:
            kept.append(i)
    return kept


def _describe_orbits(dyn: Dynamics, orbits: torch.Tensor, idx: list[int], x: float) -> list[Orbit]:
    if not idx:
        return []
    k = orbits.shape[1]
    with torch.no_grad():
        p = dyn.decision(orbits[idx].reshape(-1, dyn.dim)).reshape(len(idx), k)  # (C, k)
    # each orbit from its state with the highest P: the same orbit reads the same from any start
    phase = torch.argmax(p, 1)
    s0 = orbits[idx][torch.arange(len(idx)), phase]  # (C, D)
    states = dyn.orbit(s0, x, k).transpose(0, 1)  # (C, k, D)
    eig = torch.linalg.eigvals(dyn.monodromy(s0, x, k)).detach().numpy()  # (C, D) Floquet multipliers
    with torch.no_grad():
        q, p = speed(dyn, s0, x, k), dyn.decision(states.reshape(-1, dyn.dim)).reshape(len(idx), k)
    return [Orbit(states[c].numpy(), float(q[c]), p[c].numpy(), eig[c][np.argsort(-np.abs(eig[c]), kind="stable")])
            for c in range(len(idx))]
