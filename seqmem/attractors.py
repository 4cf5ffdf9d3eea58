"""Why they remember: every digit's fixed points and short cycles of a trained model, on the plane of its trajectories.

The pipeline's use of seqmem.fixed_points. Starting states are sampled along real sequences, half
of them with a -1; each digit 0..9 gets its fixed points (or, without any, its slowest points) and
its orbits of period 2..max_period, their decision P = head(h), kind and time constant. The
trajectories, points and orbits are projected on the top two principal components of the
trajectories' states, for the picture.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from seqmem.core.config import AttractorsConfig
from seqmem.cycles import find_cycles
from seqmem.fixed_points import Dynamics, FixedPoint, Orbit, find_all
from seqmem.model import SequenceClassifier, one_thread

DIGITS = list(range(10))
LENGTH, MINUS_ONE_AT = 30, 5  # the sampled sequences: 30 steps, the -1 (in half of them) at step 5
SHOWN = 2  # sequences of each kind drawn in the picture


def sequences(cfg: AttractorsConfig) -> np.ndarray:
    """(2m, LENGTH, 1) random digits, the first m with a -1 at MINUS_ONE_AT; m >= 8, enough for num_starts states."""
    m = max(8, math.ceil(cfg.num_starts / (2 * LENGTH)))
    X = np.random.default_rng(cfg.seed).integers(0, 10, (2 * m, LENGTH, 1))
    X[:m, MINUS_ONE_AT, 0] = -1
    return X


def principal_plane(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), top two principal directions (2, D)) of states (n, D), each direction's sign fixed."""
    mean = states.mean(0)
    _, _, vt = np.linalg.svd(states - mean, full_matrices=False)
    pcs = vt[:2] * np.sign(vt[:2, np.argmax(np.abs(vt[:2]), axis=1)][np.arange(2), np.arange(2)])[:, None]
    return mean, pcs


def _row(digit: int, found: FixedPoint | Orbit, kind: str, state: np.ndarray, p: float, phase: int,
         plane: tuple[np.ndarray, np.ndarray]) -> dict:
    pc = (state - plane[0]) @ plane[1].T  # (2,)
    tau = found.time_constant
    return {"digit": digit, "kind": kind, "p": round(float(p), 6), "max_abs_eig": round(found.max_abs, 6),
            "time_constant": None if math.isinf(tau) else round(tau, 4), "q": float(f"{found.q:.3g}"),
            "pc1": round(float(pc[0]), 6), "pc2": round(float(pc[1]), 6), "period": found.period, "phase": phase}


def _point_row(digit: int, point: FixedPoint, kind: str, plane: tuple[np.ndarray, np.ndarray]) -> dict:
    return _row(digit, point, kind, point.state, point.p, 0, plane)


def _orbit_rows(digit: int, orbit: Orbit, plane: tuple[np.ndarray, np.ndarray]) -> list[dict]:
    """One row per state of the orbit, in the order the map visits them (phase 0, 1, ...)."""
    return [_row(digit, orbit, orbit.kind, orbit.states[j], orbit.ps[j], j, plane) for j in range(orbit.period)]


def _slowest(points: list[dict], seen: bool) -> float | None:
    taus = [r["time_constant"] for r in points if r["kind"] == "stable" and (r["p"] > 0.5) == seen]
    return max(taus) if taus else None


def _seen(orbit: Orbit, seen: bool) -> bool:
    return all((p > 0.5) == seen and p != 0.5 for p in orbit.ps)  # every state of it says the same


def _slowest_cycle(cycles: dict[int, list[Orbit]], seen: bool) -> float | None:
    taus = [o.time_constant for orbits in cycles.values() for o in orbits if o.kind == "stable" and _seen(o, seen)]
    return round(max(taus), 4) if taus else None


def _stable_cycle(orbits: list[Orbit], seen: bool) -> bool:
    """Whether one of these orbits is stable and says `seen` at every state of it (P > 0.5, or < 0.5 for not seen)."""
    return any(o.kind == "stable" and _seen(o, seen) for o in orbits)


def attractors(model: SequenceClassifier, cfg: AttractorsConfig) -> tuple[dict, list[dict], list[dict], dict]:
    """(metrics, point rows, trajectory rows, plane) of one model: its fixed points and cycles under every digit.

    The plane is {"mean": (D,), "components": (2, D)} as lists: a flat state s (every layer's h, then
    every layer's c for an LSTM) sits at (s - mean) @ components.T on it (seqmem.fixed_points).

    On one torch thread: small float64 steps run faster so, and the bits do not depend on the core count.
    """
    with one_thread():
        return _attractors(model, cfg)


def _attractors(model: SequenceClassifier, cfg: AttractorsConfig) -> tuple[dict, list[dict], list[dict], dict]:
    X = sequences(cfg)
    dyn = Dynamics(model)
    states = dyn.states(X)  # (N * T, D), time-major: step t's states are rows t*N .. t*N + N - 1
    rng = np.random.default_rng(cfg.seed)
    starts = states[rng.choice(len(states), min(cfg.num_starts, len(states)), replace=False)]
    found = find_all(model, DIGITS, starts, iters=cfg.iters, lr=cfg.lr, newton=cfg.newton, q_tol=cfg.q_tol,
                     merge_tol=cfg.merge_tol)
    plane = principal_plane(states)
    points = [_point_row(d, p, p.kind, plane) for d in DIGITS for p in found[d].fixed]
    points += [_point_row(d, p, "slow", plane) for d in DIGITS for p in found[d].slow]
    cycles = {d: [] for d in DIGITS}  # every digit's orbits of period 2..max_period, shortest first
    for k in range(2, cfg.max_period + 1):
        # from fewer starts: a cycle search costs k fixed-point searches a start, and the stable cycles
        # (an attractor's basin holds many starts) are found from far fewer; saddle cycles are found less surely
        orbits = find_cycles(model, DIGITS, starts[: cfg.cycle_starts], k, iters=cfg.iters, lr=cfg.lr,
                             newton=cfg.newton, q_tol=cfg.q_tol, merge_tol=cfg.merge_tol)
        for d in DIGITS:
            cycles[d] += orbits[d]
    points += [row for d in DIGITS for o in cycles[d] for row in _orbit_rows(d, o, plane)]
    N, m = len(X), len(X) // 2
    traj = states.reshape(LENGTH, N, -1)  # (T, N, D)
    with torch.no_grad():
        p = dyn.decision(torch.as_tensor(traj.reshape(LENGTH * N, -1))).numpy().reshape(LENGTH, N)
    pcs = (traj - plane[0]) @ plane[1].T  # (T, N, 2)
    shown = [(i, f"-1 at step {MINUS_ONE_AT} ({k + 1})") for k, i in enumerate(range(SHOWN))]
    shown += [(i, f"no -1 ({k + 1})") for k, i in enumerate(range(m, m + SHOWN))]
    trajectories = [{"sequence": name, "step": t, "token": int(X[i, t, 0]), "p": round(float(p[t, i]), 6),
                     "pc1": round(float(pcs[t, i, 0]), 6), "pc2": round(float(pcs[t, i, 1]), 6)}
                    for i, name in shown for t in range(LENGTH)]
    fixed = [r for r in points if r["period"] == 1]
    followed = follow_drift(model, cfg.drift_steps)
    searched = cfg.max_period >= 2  # else the cycle counts are not 0 but unknown: None
    metrics = {
        "digits_with_stable_seen": sum(any(r["digit"] == d and r["kind"] == "stable" and r["p"] > 0.5
                                           for r in fixed) for d in DIGITS),
        "digits_with_stable_not_seen": sum(any(r["digit"] == d and r["kind"] == "stable" and r["p"] < 0.5
                                               for r in fixed) for d in DIGITS),
        "digits_without_fixed_point": sum(not found[d].fixed for d in DIGITS),
        "slowest_seen_time_constant": _slowest(fixed, seen=True),
        "slowest_not_seen_time_constant": _slowest(fixed, seen=False),
        "converged": round(float(np.mean([found[d].converged for d in DIGITS])), 6),
        # the same for orbits of period 2..max_period: a memory can be held by an oscillation
        "digits_with_stable_seen_cycle": sum(_stable_cycle(cycles[d], True) for d in DIGITS) if searched else None,
        "digits_with_stable_not_seen_cycle": sum(_stable_cycle(cycles[d], False) for d in DIGITS) if searched else None,
        "digits_with_cycle": sum(bool(cycles[d]) for d in DIGITS) if searched else None,
        "slowest_seen_cycle_time_constant": _slowest_cycle(cycles, seen=True) if searched else None,
        # when the memory of a -1 ends, from the dynamics alone (drift); None: not within drift_steps
        "predicted_half_life": followed.half_life,
        # the period of the attractor the input-averaged path settled in (1: a point); None: it crossed or still moves
        "drift_settled_period": followed.period,
    }
    return metrics, points, trajectories, {"mean": plane[0].tolist(), "components": plane[1].tolist()}


class Drift(NamedTuple):
    """Where the input-averaged path after a -1 went (follow_drift)."""

    half_life: int | None  # the first step with P < 0.5; None: not within the steps followed
    period: int | None  # it settled in a fixed point (1) or a cycle of this period of the averaged map, P > 0.5
    steps: int  # steps followed


DRIFT_PERIODS = 8  # a settled cycle of the averaged map is recognised up to this period
SETTLED = 1e-12  # ... when the state comes back to within this (max norm) after that many steps


def drift(model: SequenceClassifier, max_steps: int) -> int | None:
    """Steps after a -1 until the input-averaged dynamics cross the decision boundary (None: not within max_steps)."""
    return follow_drift(model, max_steps).half_life


def follow_drift(model: SequenceClassifier, max_steps: int) -> Drift:
    """Follow the input-averaged dynamics from the state a -1 writes: when they cross P = 0.5, or where they settle.

    From the state a -1 writes into a fresh network, follow s <- mean over the digits x of F(s, x):
    where no "seen" attractor holds the state, this mean-field path is the slow drift that ends the
    memory, and the first step with P(s) < 0.5 predicts when a typical sequence forgets. Where it
    comes back to a state it held 1..DRIFT_PERIODS steps before, it has settled on a fixed point or
    a cycle of the averaged map with P > 0.5 at every state: by this account it never forgets, and
    there is no need to go on to max_steps (a period-2 memory would otherwise run all of them).
    """
    dyn = Dynamics(model)
    digits = torch.tensor(DIGITS, dtype=torch.float64)
    with torch.no_grad():
        s = dyn.step(torch.zeros(1, dyn.dim, dtype=torch.float64), -1.0)  # (1, D): the -1, read first
        past = s.expand(DRIFT_PERIODS, -1).clone()  # (P, D): row j - 1 is the state j steps before, once filled
        for t in range(1, max_steps + 1):
            s = dyn.step(s.expand(len(DIGITS), -1), digits).mean(0, keepdim=True)
            if dyn.decision(s)[0] < 0.5:
                return Drift(t, None, t)
            back = torch.nonzero((past[: min(t, DRIFT_PERIODS)] - s).abs().amax(1) < SETTLED)
            if len(back):  # settled in an attractor of the averaged map: it never forgets
                return Drift(None, int(back[0, 0]) + 1, t)
            past = torch.cat([s, past[:-1]])
    return Drift(None, None, max_steps)
