"""Retention: how long a -1 is remembered, in bounded memory; and the forget-gate bias that fixes the LSTM's leak."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import seqmem.retention
from seqmem.core.config import ConfigError, RetentionConfig
from seqmem.model import SequenceClassifier
from seqmem.retention import distances, retention
from seqmem.train import train


def test_distances_are_log_spaced_and_end_at_the_max():
    d = distances(100_000)
    assert d[0] == 1
    assert d[-1] == 100_000
    assert np.all(np.diff(d) > 0)
    assert len(d) >= 30


def one_unit(w: float, u: float, b: float) -> SequenceClassifier:
    """h_t = tanh(w x_t + u h_{t-1} + b), decision sigmoid(10 h - 5): hand-set, so the answer is known."""
    model = SequenceClassifier(torch.nn.RNN, hidden_size=1)
    with torch.no_grad():
        model.rnn.weight_ih_l0.fill_(w)
        model.rnn.weight_hh_l0.fill_(u)
        model.rnn.bias_ih_l0.fill_(b)
        model.rnn.bias_hh_l0.fill_(0.0)
        model.head[0].weight.fill_(10.0)
        model.head[0].bias.fill_(-5.0)
    return model


def test_a_latch_never_forgets_and_a_unit_that_never_flips_has_a_half_life_of_one():
    # -1 is the only negative input, and here it comes first (h0 = 0): w = -10 lifts h to tanh(7) ~ +1,
    # where u = 100 holds it against any digit (100 - 3 - 90 > 0); without it, b = -3 sends h to -1 for good
    cfg = RetentionConfig(num_sequences=4, max_distance=1000)
    metrics, rows = retention(one_unit(-10.0, 100.0, -3.0), cfg)
    assert [r["distance"] for r in rows] == list(distances(1000))
    assert metrics == {"half_life": None, "latched_at_max": 1.0, "false_alarm_at_max": 0.0}
    metrics, _ = retention(one_unit(0.0, 0.0, -5.0), cfg)  # deaf: never says a -1 was seen
    assert metrics == {"half_life": 1, "latched_at_max": 0.0, "false_alarm_at_max": 0.0}


def test_the_running_flags_carry_across_chunks(monkeypatch):
    # the committed run folds 13 time chunks; here 7 steps a chunk, so both flags cross hundreds of edges
    torch.manual_seed(3)
    alarming = SequenceClassifier(torch.nn.RNN, hidden_size=8)  # random, large: its false alarms come late
    with torch.no_grad():
        for p in alarming.parameters():
            p.mul_(2.5)
    fading = one_unit(-1.0, 0.0, 4.5)  # no memory: above 0.5 at a -1 and at digits 0..3, so latched(d) = 0.4 ** d
    cfg = RetentionConfig(num_sequences=16, max_distance=3000)
    whole = {"alarming": retention(alarming, cfg), "fading": retention(fading, cfg)}
    alarms = {r["distance"]: r["false_alarm"] for r in whole["alarming"][1]}
    held = {r["distance"]: r["latched"] for r in whole["fading"][1]}
    # each flag changes mid-run, and the decision comes back above 0.5 after a fall: both must carry
    assert 0 < alarms[76] < 1 and 0 < held[1] < 1 and held[20] == 0
    monkeypatch.setattr(seqmem.retention, "CHUNK_FLOATS", 32 * 7)  # 2 x 16 sequences, 7 steps
    assert {"alarming": retention(alarming, cfg), "fading": retention(fading, cfg)} == whole


def test_forget_bias_adds_to_the_lstm_forget_gate_only():
    base, _ = train(torch.nn.LSTM, steps=1, hidden_size=4, log=None, lr=1e-9)
    shifted, _ = train(torch.nn.LSTM, steps=1, hidden_size=4, log=None, lr=1e-9, forget_bias=1.0)
    delta = (shifted.rnn.bias_ih_l0 - base.rnn.bias_ih_l0).detach()  # (4H,): gates i, f, g, o
    assert torch.allclose(delta[4:8], torch.ones(4), atol=1e-6)
    assert torch.allclose(delta[:4], torch.zeros(4))
    with pytest.raises(ConfigError, match=r"rnn.forget_bias: must be 0: only an LSTM has a forget gate"):
        train(torch.nn.RNN, steps=1, forget_bias=1.0, log=None)
