"""Property-based tests: make_datum and make_data over the whole valid parameter space and its edges."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqmem.data import make_data, make_datum

seeds = st.integers(0, 2**32 - 1)
probability = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def length_range(draw):
    lo = draw(st.integers(1, 60))
    return lo, draw(st.one_of(st.just(lo), st.integers(lo, 80)))  # min_len == max_len is an edge


@settings(max_examples=150, deadline=None)
@given(N=st.one_of(st.just(1), st.integers(1, 300)), lengths=length_range(), p=probability, seed=seeds)
def test_make_data_invariants(N, lengths, p, seed):
    min_len, max_len = lengths
    X, Y = make_data(N, np.random.default_rng(seed), min_len=min_len, max_len=max_len, p_minus_one=p)
    T = X.shape[1]
    assert X.shape == (N, T, 1)
    assert Y.shape == (N, 1)
    assert min_len <= T <= max_len
    assert X.dtype == Y.dtype == np.int64
    assert X.min() >= -1
    assert X.max() <= 9
    minus = (X == -1).sum(axis=(1, 2))
    assert minus.max() <= 1
    assert np.array_equal(Y[:, 0], minus)
    if p == 0.0:
        assert Y.sum() == 0
    if p == 1.0:
        assert Y.all()
    again = make_data(N, np.random.default_rng(seed), min_len=min_len, max_len=max_len, p_minus_one=p)
    assert np.array_equal(X, again[0])
    assert np.array_equal(Y, again[1])


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 100), p=probability, seed=seeds)
def test_make_datum_invariants(size, p, seed):
    x, y = make_datum(size, np.random.default_rng(seed), p_minus_one=p)
    assert x.shape == (size, 1)
    assert y in (0, 1)
    assert x.min() >= -1
    assert x.max() <= 9
    assert (x == -1).sum() == y
    if p in (0.0, 1.0):  # a certain outcome; otherwise y is random, and the rate is tested below
        assert y == p


@settings(max_examples=20, deadline=None)
@given(p=st.floats(0.05, 0.95), seed=seeds)
def test_make_datum_holds_a_minus_one_at_rate_p(p, seed):
    rng = np.random.default_rng(seed)
    rate = np.mean([make_datum(5, rng, p_minus_one=p)[1] for _ in range(2000)])
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / 2000)  # 5 sigma: fails by chance ~1 in 10^6


@settings(max_examples=100, deadline=None)
@given(N=st.integers(-5, 0), p=st.one_of(st.floats(1.0, 10, exclude_min=True), st.floats(-10, 0, exclude_max=True),
                                           st.just(float("nan"))))
def test_invalid_arguments_are_named(N, p):
    with pytest.raises(ValueError, match="N: must be an integer >= 1"):
        make_data(N)
    with pytest.raises(ValueError, match="p_minus_one"):
        make_data(3, p_minus_one=p)
    with pytest.raises(ValueError, match="p_minus_one"):
        make_datum(3, p_minus_one=p)
