"""Periodic orbits (seqmem.cycles.find_cycles): networks solved by hand, and an RNN that remembers in one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import seqmem  # noqa: F401  before any training below: it pins the CPU arithmetic
from seqmem.attractors import attractors, follow_drift
from seqmem.core.config import AttractorsConfig
from seqmem.cycles import find_cycles
from seqmem.fixed_points import Dynamics, find
from seqmem.model import one_thread
from tests.test_fixed_points import _model, _solve

GRID = np.stack(np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9)), -1).reshape(-1, 2)  # (81, 2) starts


def _flipper() -> torch.nn.Module:
    """Two independent units: h1' = tanh(-2 h1), which flips sign every step, and h2' = tanh(2 h2), a latch.

    Unit 1 has one fixed point, 0 (eigenvalue -2: unstable), and one 2-cycle, a -> -a with
    a = tanh(2a) = 0.9575: each step multiplies a perturbation by -2 (1 - a^2), so the cycle's
    multiplier is 4 (1 - a^2)^2 = 0.028, stable. Unit 2 has fixed points -a, 0, a (eigenvalues
    2 (1 - a^2), 2, 2 (1 - a^2)) and no cycle: its map only rises. So the pair has exactly three
    orbits of least period 2, unit 1 flipping while unit 2 rests at -a, 0 or a: two stable, and a
    saddle with multipliers 4 and 0.028. The head reads unit 1, P = sigmoid(h1).
    """
    model = _model(torch.nn.RNN, 2, weight_hh_l0=[[-2.0, 0.0], [0.0, 2.0]])
    with torch.no_grad():
        model.head[0].weight.copy_(torch.tensor([[1.0, 0.0]]))
    return model


def test_a_unit_with_a_negative_self_weight_flips_in_a_stable_2_cycle_and_its_multiplier_is_exact():
    model = _model(torch.nn.RNN, 1, weight_hh_l0=[[-2.0]])  # h' = tanh(-2 h)
    with torch.no_grad():
        model.head[0].weight.fill_(1.0)  # P = sigmoid(h): the orbit starts from its positive state
    a = _solve(2.0)
    fixed, _ = find(model, 0.0, np.linspace(-1, 1, 21)[:, None], iters=200)
    assert [(round(p.state[0], 9), p.kind) for p in fixed] == [(0.0, "unstable")]  # no stable point at all
    (orbit,) = find_cycles(model, [0.0], np.linspace(-1, 1, 21)[:, None], 2, iters=200)[0.0]
    assert orbit.period == 2
    assert orbit.states[:, 0] == pytest.approx([a, -a], abs=1e-9)
    assert orbit.ps == pytest.approx([1 / (1 + math.exp(-a)), 1 / (1 + math.exp(a))], abs=1e-9)
    mu = 4 * (1 - a * a) ** 2
    assert orbit.eigenvalues == pytest.approx([mu], rel=1e-7)
    assert orbit.kind == "stable"
    assert orbit.time_constant == pytest.approx(-2 / math.log(mu), rel=1e-7)  # in steps, not periods
    assert orbit.q < 1e-20


def test_two_units_have_exactly_their_three_2_cycles_two_stable_and_a_saddle():
    a = _solve(2.0)
    mu1, mu2 = 4 * (1 - a * a) ** 2, (2 * (1 - a * a)) ** 2  # unit 1 flipping; unit 2 resting at +-a for two steps
    orbits = find_cycles(_flipper(), [0.0], GRID, 2, iters=300)[0.0]
    got = sorted(orbits, key=lambda o: o.states[0, 1])  # by where unit 2 rests
    assert len(got) == 3
    for orbit, rest in zip(got, [-a, 0.0, a], strict=True):
        assert orbit.states == pytest.approx(np.array([[a, rest], [-a, rest]]), abs=1e-9)
    assert [o.kind for o in got] == ["stable", "saddle", "stable"]
    for orbit, want in zip(got, [[mu1, mu2], [4.0, mu1], [mu1, mu2]], strict=True):
        assert np.abs(orbit.eigenvalues) == pytest.approx(sorted(want, reverse=True), rel=1e-7)
    assert got[1].time_constant == math.inf


@pytest.mark.parametrize("period", [3, 4])
def test_a_longer_search_reports_only_orbits_of_that_least_period(period):
    # F^4 fixes the three 2-cycles and the three fixed points too; none of them is a 4-cycle
    assert find_cycles(_flipper(), [0.0], GRID, period, iters=300) == {0.0: []}


def test_the_drift_recognises_a_settled_2_cycle_of_the_averaged_map():
    # h' = tanh(-2 h + 0.02 x + 0.5): its slope at its fixed point is below -1, so the averaged map
    # settles in a 2-cycle; the head says P = sigmoid(1) everywhere. Followed step by step, it would
    # run all 100,000 steps (and did, before cycles were recognised)
    model = _model(torch.nn.RNN, 1, weight_hh_l0=[[-2.0]], weight_ih_l0=[[0.02]], bias_hh_l0=[0.5])
    with torch.no_grad():
        model.head[0].weight.fill_(0.0)
        model.head[0].bias.fill_(1.0)  # P = sigmoid(1) at every state: it never forgets
    followed = follow_drift(model, 100_000)
    assert (followed.half_life, followed.period) == (None, 2)
    assert followed.steps < 200  # found settled, not followed for 100,000 steps


# --- the README's own example: `dvc exp run -S train.rnn.hidden_size=8` -------------------------------------------


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():  # as stage probe runs: on a busy 2-core machine a second thread makes small steps slower
        yield


@pytest.fixture(scope="module")
def rnn8():
    from seqmem.train import train

    return train(torch.nn.RNN, hidden_size=8, log=None)[0]  # train()'s defaults: the pipeline's train@rnn


def test_the_hidden_size_8_rnn_remembers_in_a_stable_2_cycle_under_every_digit(rnn8):
    metrics, points, _, _ = attractors(rnn8, AttractorsConfig())
    # no stable "seen" fixed point at all: the fixed points alone cannot explain its memory...
    assert metrics["digits_with_stable_seen"] == 0
    assert metrics["digits_with_stable_not_seen"] == 10
    # ...a stable 2-cycle that says "seen" at both of its states does, under every digit
    assert metrics["digits_with_stable_seen_cycle"] == 10
    assert metrics["slowest_seen_cycle_time_constant"] < 2  # it pulls hard: a perturbation is gone in a few steps
    # the averaged dynamics settle in a 2-cycle too, and never cross: it never forgets
    assert (metrics["predicted_half_life"], metrics["drift_settled_period"]) == (None, 2)
    for digit in range(10):
        seen = [r for r in points if r["digit"] == digit and r["period"] == 2 and r["kind"] == "stable"]
        assert [r["phase"] for r in seen] == [0, 1] and all(r["p"] > 0.9 for r in seen), seen
        assert seen[0]["max_abs_eig"] < 0.2  # Floquet multipliers, of two steps
    # and between the "no -1" point and the cycle, under the small digits, saddle cycles that say "no -1"
    assert any(r["kind"] == "saddle" and r["period"] == 2 and r["p"] < 0.5 and r["digit"] < 4 for r in points)


def test_the_hidden_size_8_rnns_cycles_are_true_2_cycles_and_real_sequences_hop_along_them_in_step(rnn8):
    dyn, T = Dynamics(rnn8), 200
    X = np.random.default_rng(0).integers(0, 10, (64, T, 1))
    X[:, 0, 0] = -1
    states = dyn.states(X).reshape(T, 64, -1)  # (T, N, D): after a -1, random digits
    found = find_cycles(rnn8, [float(d) for d in range(10)], states[5:7].reshape(-1, dyn.dim), 2, iters=300)
    orbit = {}
    for digit in range(10):
        (orbit[digit],) = [o.states for o in found[float(digit)] if o.kind == "stable" and min(o.ps) > 0.5]
        s = torch.as_tensor(orbit[digit][:1])  # (1, D)
        two = lambda z, x=float(digit): dyn.step(dyn.step(z, x), x)  # noqa: E731
        with torch.no_grad():
            assert float((two(s) - s).abs().max()) < 1e-9  # back after two steps...
            assert float((dyn.step(s, float(digit)) - s).abs().max()) > 1  # ...far away after one: an oscillation
        # the multipliers again, from torch's own Jacobian of the two-step map: all |mu| < 1, stable
        mu = np.linalg.eigvals(torch.autograd.functional.jacobian(two, s).reshape(dyn.dim, dyn.dim).numpy())
        want = [o.eigenvalues for o in found[float(digit)] if o.kind == "stable"][0]
        assert np.sort(np.abs(mu)) == pytest.approx(np.sort(np.abs(want)), abs=1e-9)
    # real sequences hold their -1 by hopping between two corners, all in step: after each digit the
    # state lies on that digit's cycle, on the corner the parity of the step decides, whatever the digits
    corners = []
    for t in (100, 101, 150, 151, 198, 199):
        nearest = np.stack([np.abs(states[t, i] - orbit[int(X[i, t, 0])]).max(1) for i in range(64)])  # (N, 2)
        assert nearest.min(1).max() < 0.25
        corner = np.linalg.norm(states[t] - orbit[0][0], axis=1) < np.linalg.norm(states[t] - orbit[0][1], axis=1)
        assert corner.all() or not corner.any(), t  # every sequence on the same corner
        corners.append(bool(corner[0]))
    assert corners in ([True, False] * 3, [False, True] * 3)  # and the other one a step later


def test_the_figure_draws_a_cycle_as_diamonds_joined_in_a_closed_dotted_line():
    from seqmem.figures import attractors_figure

    row = dict(digit=0, kind="stable", p=0.9, max_abs_eig=0.03, time_constant=0.6, q=0.0, period=2)
    points = [{**row, "pc1": 1.0, "pc2": 2.0, "phase": 0}, {**row, "pc1": -1.0, "pc2": 0.5, "phase": 1},
              dict(row, kind="saddle", p=0.2, period=1, phase=0, pc1=0.0, pc2=0.0)]
    trajectories = [{"sequence": "s", "step": t, "token": 3, "pc1": t / 10, "pc2": 0.0} for t in range(5)]
    fig = attractors_figure({"rnn": {"points": points, "trajectories": trajectories}})
    (joined,) = [line for line in fig.axes[0].lines if line.get_linestyle() == ":"]
    assert list(joined.get_xdata()) == [1.0, -1.0, 1.0] and list(joined.get_ydata()) == [2.0, 0.5, 2.0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "stable cycle (states joined)" in labels and "saddle cycle (unstable)" in labels


def test_the_committed_models_hold_no_cycle_as_the_docs_say():
    from seqmem.core.artifacts import read_metrics
    from tests.helpers import ROOT

    assert "Neither has a cycle of period 2 under any digit" in (ROOT / "docs/attractors.md").read_text()
    for flavor, m in read_metrics(ROOT / "metrics/attractors").items():
        assert (m["digits_with_cycle"], m["drift_settled_period"]) == (0, 1), flavor
