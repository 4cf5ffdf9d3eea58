"""Flip timing, position recall, and the hidden-state probes, on hand-made inputs with known answers."""

import numpy as np
import pytest
import torch

from seqmem.evaluate import flip_stats, position_recall
from seqmem.hidden import fit_logistic, readout_accuracy, states, top_units
from seqmem.model import SequenceClassifier

LO, HI = 0.1, 0.9


def test_flip_stats_on_hand_made_traces():
    d = np.array([
        [LO, LO, HI, HI, HI, HI],  # -1 at 2: flips at once, latches
        [LO, LO, LO, HI, HI, HI],  # -1 at 1: lag 2, latches
        [LO, HI, LO, LO, HI, LO],  # -1 at 4: false alarm at 1, lag 0, then drops: no latch
        [LO, LO, LO, LO, LO, LO],  # -1 at 0: never flips
        [HI, LO, LO, LO, LO, LO],  # negative: above only at step 0, which is ignored
        [LO, LO, LO, HI, LO, HI],  # negative of length 3: the HI at 3 and 5 is padding
        [LO, LO, HI, LO, LO, LO],  # negative: false alarm at 2
    ])
    lengths = np.array([6, 6, 6, 6, 6, 3, 6])
    where = np.array([2, 1, 4, 0, -1, -1, -1])
    s = flip_stats(d, lengths, where, ignore_first=1)
    assert s["mean_lag"] == pytest.approx((0 + 2 + 0) / 3)
    assert s["lag0_share"] == pytest.approx(2 / 4)
    assert s["latch_rate"] == pytest.approx(2 / 4)
    assert s["false_alarm_rate"] == pytest.approx(2 / 7)
    assert flip_stats(d, lengths, where, ignore_first=0)["false_alarm_rate"] == pytest.approx(3 / 7)


def test_flip_stats_with_no_positives_or_no_flips():
    d = np.full((2, 4), LO)
    s = flip_stats(d, np.array([4, 4]), np.array([-1, -1]))
    assert s["lag0_share"] is None
    assert s["mean_lag"] is None
    assert s["false_alarm_rate"] == 0.0
    s = flip_stats(d, np.array([4, 4]), np.array([1, 3]))
    assert s["mean_lag"] is None
    assert s["lag0_share"] == 0.0
    assert s["latch_rate"] == 0.0


def test_position_recall_bins_by_relative_position():
    lengths = np.array([10, 10, 10, 20, 10])
    where = np.array([0, 5, 9, 19, -1])  # relative 0.0, 0.5, 0.9, 0.95, none
    pred = np.array([True, False, True, False, True])
    r = position_recall(pred, lengths, where, bins=10)
    assert r[0] == 1.0
    assert r[5] == 0.0
    assert r[9] == 0.5
    assert [r[i] for i in (1, 2, 3, 4, 6, 7, 8)] == [None] * 7
    assert position_recall(pred, lengths, where, bins=3) == [1.0, 0.0, 0.5]


def test_lstm_states_match_the_batched_forward():
    torch.manual_seed(0)
    model = SequenceClassifier(torch.nn.LSTM, hidden_size=6, num_layers=2)
    X = np.random.default_rng(0).integers(-1, 10, (3, 7, 1))
    s = states(model, X)
    assert s["h"].shape == s["c"].shape == (3, 7, 6)
    np.testing.assert_allclose(s["h"], model.hidden(X).detach().numpy(), atol=1e-6)
    _, (_, c_last) = model.rnn(torch.as_tensor(X).float())
    np.testing.assert_allclose(s["c"][:, -1], c_last[-1].detach().numpy(), atol=1e-6)
    assert set(states(SequenceClassifier(torch.nn.GRU, 4), X)) == {"h"}


def test_linear_readout_reads_a_linear_latent_and_not_noise():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(2000, 5))
    y = (F[:, 2] - 0.5 * F[:, 4] > 0.1).astype(float)
    w = fit_logistic(F, y)
    assert np.all(np.isfinite(w))
    assert abs(w[2]) > abs(w[0])
    assert w[4] < 0
    assert readout_accuracy(F, y, np.random.default_rng(1)) > 0.97
    assert readout_accuracy(F, rng.integers(0, 2, 2000).astype(float), np.random.default_rng(1)) < 0.6
    assert top_units(F, y, 2) == [2, 4]
