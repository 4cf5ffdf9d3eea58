"""train(): it learns, it is deterministic, its Adam is torch's Adam, it refuses bad settings."""

import copy

import numpy as np
import pytest
import torch

from seqmem.core.config import ConfigError
from seqmem.evaluate import accuracy
from seqmem.optim import Adam
from seqmem.train import train
from seqmem.valset import make_valset

VAL = make_valset(300, np.random.default_rng(5))


def test_train_reduces_loss_and_records_history():
    lines = []
    model, hist = train(torch.nn.LSTM, steps=120, hidden_size=16, eval_every=40, val=VAL, log=lines.append)
    assert len(hist["loss"]) == 120
    assert all(isinstance(v, float) for v in hist["loss"])
    assert np.mean(hist["loss"][-20:]) < 0.5 * np.mean(hist["loss"][:20])
    assert hist["val_step"] == [40, 80, 120]
    assert len(lines) == 3
    assert "val_acc" in lines[-1]
    assert hist["val_acc"][-1] == accuracy(model, VAL) > 0.9


@pytest.mark.parametrize("rnn_cls", [torch.nn.RNN, torch.nn.GRU])
def test_same_seed_same_weights_other_seed_other_weights(rnn_cls):
    kw = dict(steps=15, hidden_size=8, log=None, val=VAL)
    a, _ = train(rnn_cls, seed=3, **kw)
    b, _ = train(rnn_cls, seed=3, **kw)
    c, _ = train(rnn_cls, seed=4, **kw)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_last_step_mode_trains_and_threads_are_restored():
    before = torch.get_num_threads()
    _, hist = train(torch.nn.LSTM, steps=5, loss_mode="last_step", threads=2, log=None, val=VAL)
    assert len(hist["loss"]) == 5
    assert torch.get_num_threads() == before


def test_adam_matches_torch_optim_adam():
    torch.manual_seed(0)
    ours = torch.nn.LSTM(1, 8, batch_first=True)
    ref = copy.deepcopy(ours)
    opt_ours, opt_ref = Adam(ours.parameters(), lr=1e-2), torch.optim.Adam(ref.parameters(), lr=1e-2)
    for _ in range(30):
        x = torch.randn(4, 5, 1)
        for model, opt in ((ours, opt_ours), (ref, opt_ref)):
            opt.zero_grad()
            model(x)[0].pow(2).sum().backward()
            opt.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kwargs, key", [
    (dict(lr=0.0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(steps=-1), "steps"),
    (dict(hidden_size=2.5), "hidden_size"),
    (dict(loss_mode="final"), "loss_mode"),
    (dict(min_len=30), "min_len"),
    (dict(threads=0), "threads"),
    (dict(hiden_size=3), "hiden_size"),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises((ConfigError, TypeError), match=key):
        train(torch.nn.RNN, log=None, **kwargs)
