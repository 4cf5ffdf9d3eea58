"""The forget-gate penalty (train.lstm.forget_penalty): the gate it reads, and what it does to training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqmem.core.config import ConfigError
from seqmem.model import SequenceClassifier
from seqmem.train import train


def gate_by_hand(model: SequenceClassifier, X: np.ndarray, state: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Step an LSTMCell per layer through X, with the model's weights: the forget gate at the last step."""
    H, inp, gates = model.hidden_size, torch.as_tensor(X).float(), []
    for k in range(model.num_layers):
        cell = torch.nn.LSTMCell(inp.shape[-1], H)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        cell.load_state_dict({n: getattr(model.rnn, f"{n}_l{k}") for n in names})
        h, c, outs = state[0][k], state[1][k], []
        for t in range(X.shape[1]):
            pre = inp[:, t] @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh  # (N, 4H)
            f = torch.sigmoid(pre[:, H : 2 * H])
            h, c = cell(inp[:, t], (h, c))
            outs.append(h)
        gates.append(f)
        inp = torch.stack(outs, 1)  # the next layer's input, (N, T, H)
    return torch.stack(gates)


@pytest.mark.parametrize(("num_layers", "T"), [(1, 7), (2, 7), (2, 2), (3, 1), (1, 1)])
def test_the_forget_gate_is_the_one_the_lstm_applies_at_the_last_step(num_layers, T):
    torch.manual_seed(0)
    model = SequenceClassifier(torch.nn.LSTM, hidden_size=5, num_layers=num_layers)
    X = np.random.default_rng(0).integers(-1, 10, (3, T, 1))
    state = (torch.randn(num_layers, 3, 5), torch.randn(num_layers, 3, 5))  # a carried state, not zeros
    with torch.no_grad():
        h, (hn, cn), gate = model.run_with_forget_gate(X, state)
        h0, (hn0, cn0) = model.run(X, state)
        assert gate.shape == (num_layers, 3, 5)
        torch.testing.assert_close(gate, gate_by_hand(model, X, state), atol=1e-6, rtol=0)
        for a, b in ((h, h0), (hn, hn0), (cn, cn0)):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_only_an_lstm_has_a_forget_gate():
    with pytest.raises(ValueError, match="only an LSTM has a forget gate, and this model is .gru."):
        SequenceClassifier(torch.nn.GRU, hidden_size=4).run_with_forget_gate(np.zeros((1, 3, 1)))
    with pytest.raises(ConfigError, match=r"rnn.forget_penalty: must be 0: only an LSTM has a forget gate, got 1.0"):
        train(torch.nn.RNN, steps=1, forget_penalty=1.0, log=None)
    with pytest.raises(ConfigError, match=r"forget_penalty: must be >= 0.0, got -0.5"):
        train(torch.nn.LSTM, steps=1, forget_penalty=-0.5, log=None)


def mean_forget_gate(model: SequenceClassifier) -> float:
    X = np.random.default_rng(7).integers(0, 10, (64, 20, 1))
    with torch.no_grad():
        return model.run_with_forget_gate(X)[2].mean().item()


def test_the_penalty_shuts_the_gate_and_the_logged_loss_stays_the_task_loss():
    kw = dict(steps=40, hidden_size=8, eval_every=40, log=None)
    plain, plain_hist = train(torch.nn.LSTM, **kw)
    shut, shut_hist = train(torch.nn.LSTM, forget_penalty=10.0, **kw)
    assert mean_forget_gate(plain) > 0.3
    assert mean_forget_gate(shut) < 0.05
    # same seed, same first batch, same weights: the penalty is not in the logged (BCE) loss
    assert shut_hist["loss"][0] == plain_hist["loss"][0]
    assert shut_hist["loss"][1] != plain_hist["loss"][1]  # but it did steer the first step
