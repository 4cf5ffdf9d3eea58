"""Streams: training batches whose sequences run on over several batches (train.<flavor>.carry_batches)."""

import math

import numpy as np
import pytest
import torch

from seqmem.core.config import ConfigError, Sequences
from seqmem.data import Streams, draw, seen_so_far
from seqmem.train import carry_over, train

SPEC = Sequences()  # lengths 10..25, p_minus_one 0.5


def follow(carry: int, batches: int, N: int = 64, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every finished row sequence as (tokens (T,), targets (T,)), its batches joined."""
    streams, rows, done = Streams(N, np.random.default_rng(seed), SPEC, carry), [[] for _ in range(N)], []
    for _ in range(batches):
        X, target, fresh = streams.next()
        for i in range(N):
            if fresh[i] and rows[i]:
                done.append((np.concatenate([x for x, _ in rows[i]]), np.concatenate([t for _, t in rows[i]])))
                rows[i] = []
            rows[i].append((X[i, :, 0], target[i, :, 0]))
    return done


def test_carry_1_is_draw_bit_for_bit():
    streams, rng = Streams(64, np.random.default_rng(5), SPEC), np.random.default_rng(5)
    for _ in range(20):
        X, target, fresh = streams.next()
        X0, Y0 = draw(64, rng, SPEC)
        assert np.array_equal(X, X0)
        assert fresh.all()
        assert np.array_equal(target, seen_so_far(X0))
        assert np.array_equal(target[:, -1], Y0)


def test_a_carried_sequence_holds_one_minus_one_and_its_target_runs_on():
    seqs = follow(carry=10, batches=600)
    spans = []
    for x, t in seqs:
        assert (x == -1).sum() <= 1
        assert np.array_equal(t, np.maximum.accumulate(x == -1))  # seen so far, across batches
        spans.append(len(x))
    assert max(spans) > 10 * 10  # some run over many batches; each batch is 10..25 steps
    assert abs(np.mean([(x == -1).any() for x, _ in seqs]) - 0.5) < 0.03  # p_minus_one per sequence


def test_spans_are_log_uniform_over_1_to_carry_batches():
    streams, N = Streams(40000, np.random.default_rng(1), SPEC, carry=10), 40000
    streams.next()
    spans = streams.left + 1  # batches each row's first sequence spans
    counts = np.bincount(spans, minlength=12)[1:]
    assert counts[10:].sum() == 0
    assert counts[:10].min() > 0
    expected = [N * math.log((k + 1) / k) / math.log(11) for k in range(1, 11)]
    assert np.allclose(counts[:10], expected, rtol=0.1)  # 4 sigma or more for every bin


def test_the_minus_one_lands_in_any_batch_of_its_sequence():
    # a sequence of two batches holds its -1 in the first or the second about equally often
    streams, firsts, seconds = Streams(20000, np.random.default_rng(2), SPEC, carry=2), 0, 0
    X1, _, _ = streams.next()
    two = streams.left == 1  # rows whose sequence spans two batches
    X2, _, fresh = streams.next()
    assert not fresh[two].any()
    firsts, seconds = (X1[two] == -1).any(axis=(1, 2)).sum(), (X2[two] == -1).any(axis=(1, 2)).sum()
    assert abs(firsts - seconds) < 0.1 * (firsts + seconds)


def test_carry_over_zeroes_fresh_rows_and_cuts_the_graph():
    h = torch.ones(1, 3, 2, requires_grad=True) * 2  # (layers, N, H), part of a graph
    c = torch.full((1, 3, 2), 3.0)
    h2, c2 = carry_over((h, c), np.array([True, False, False]))
    assert not h2.requires_grad
    assert h2[0, 0].eq(0).all()
    assert h2[0, 1:].eq(2).all()
    assert c2[0, 1:].eq(3).all()
    assert carry_over((h, c), np.ones(3, bool)) is None
    assert carry_over(None, np.zeros(3, bool)) is None
    assert carry_over(h, np.array([False, True, False]))[0, 1].eq(0).all()  # an RNN's single state


def test_train_with_carried_state_is_seeded_and_differs_from_fresh_batches():
    kw = dict(steps=30, hidden_size=8, log=None, eval_every=30)
    a, _ = train(torch.nn.LSTM, carry_batches=4, **kw)
    b, _ = train(torch.nn.LSTM, carry_batches=4, **kw)
    c, _ = train(torch.nn.LSTM, carry_batches=1, **kw)
    same = [torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)]
    fresh = [torch.equal(x, y) for x, y in zip(a.state_dict().values(), c.state_dict().values(), strict=True)]
    assert all(same)
    assert not all(fresh)


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, 2_000_000])
def test_train_rejects_a_bad_carry_batches(bad):
    with pytest.raises(ConfigError, match="carry_batches"):
        train(torch.nn.LSTM, carry_batches=bad, steps=1, log=None)
