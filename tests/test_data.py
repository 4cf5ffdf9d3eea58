"""make_datum / make_data / the validation set: shapes, values, labels, frequency, seeding."""

import numpy as np
import pytest

from seqmem.core.artifacts import ArtifactError
from seqmem.data import make_data, make_datum, seen_so_far
from seqmem.valset import load_valset, make_valset, save_valset


def test_make_datum_shape_values_and_label():
    rng = np.random.default_rng(0)
    for size in (1, 10, 25):
        for _ in range(50):
            x, y = make_datum(size, rng)
            assert x.shape == (size, 1)
            assert np.issubdtype(x.dtype, np.integer)
            assert x.min() >= -1
            assert x.max() <= 9
            assert y == int((x == -1).sum() == 1)
            assert (x == -1).sum() <= 1


def test_make_datum_seeded_and_unseeded():
    a = make_datum(12, np.random.default_rng(3))
    b = make_datum(12, np.random.default_rng(3))
    assert np.array_equal(a[0], b[0])
    assert a[1] == b[1]
    x, y = make_datum(12)  # rng=None: a fresh unseeded generator
    assert x.shape == (12, 1)
    assert y in (0, 1)


def test_make_data_shapes_lengths_and_labels():
    rng = np.random.default_rng(1)
    lengths = set()
    for _ in range(300):
        X, Y = make_data(64, rng)
        assert X.shape[0] == 64
        assert X.shape[2] == 1
        assert Y.shape == (64, 1)
        lengths.add(X.shape[1])
        assert X.min() >= -1
        assert X.max() <= 9
        assert np.array_equal(Y[:, 0], (X == -1).any(axis=(1, 2)))  # label = "holds a -1"
        assert (X == -1).sum(axis=(1, 2)).max() <= 1  # never two
    assert lengths == set(range(10, 26))  # 10..25 inclusive, all reached


def test_make_data_minus_one_frequency_and_position():
    X, Y = make_data(20000, np.random.default_rng(2), min_len=20, max_len=20)
    assert abs(Y.mean() - 0.5) < 0.02  # 5 sigma is 0.018
    pos = np.argmax(X[Y[:, 0] == 1, :, 0] == -1, axis=1)
    counts = np.bincount(pos, minlength=20)
    assert counts.min() > 0.7 * counts.mean()  # uniform over positions
    assert set(np.unique(X[X != -1])) == set(range(10))


def test_make_data_probability_and_length_options():
    X, Y = make_data(500, np.random.default_rng(0), min_len=7, max_len=7, p_minus_one=0.0)
    assert X.shape == (500, 7, 1)
    assert Y.sum() == 0
    X, Y = make_data(500, np.random.default_rng(0), min_len=3, max_len=3, p_minus_one=1.0)
    assert Y.all()
    assert ((X == -1).sum(axis=(1, 2)) == 1).all()


def test_make_data_is_seeded():
    a, b = make_data(32, np.random.default_rng(7)), make_data(32, np.random.default_rng(7))
    assert np.array_equal(a[0], b[0])
    assert np.array_equal(a[1], b[1])
    c = make_data(32, np.random.default_rng(8))
    assert not (a[0].shape == c[0].shape and np.array_equal(a[0], c[0]))


@pytest.mark.parametrize("kwargs, names", [
    (dict(N=0), "N"),
    (dict(N=2.0), "N"),
    (dict(N=True), "N"),
    (dict(N=4, min_len=0), "min_len"),
    (dict(N=4, min_len=9, max_len=5), "min_len"),
    (dict(N=4, p_minus_one=1.5), "p_minus_one"),
    (dict(N=4, p_minus_one=-0.1), "p_minus_one"),
])
def test_make_data_rejects_bad_values(kwargs, names):
    with pytest.raises(ValueError, match=names):
        make_data(**kwargs)


def test_seen_so_far_flips_at_the_minus_one():
    X = np.array([[[1], [-1], [3]], [[1], [2], [3]]])
    assert seen_so_far(X)[..., 0].tolist() == [[0, 1, 1], [0, 0, 0]]


def test_valset_mixed_lengths_padding_and_roundtrip(tmp_path):
    vs = make_valset(400, np.random.default_rng(0), min_len=4, max_len=9)
    assert vs.X.shape == (400, 9, 1)
    assert vs.lengths.shape == (400,)
    assert vs.Y.shape == (400, 1)
    assert set(vs.lengths) == set(range(4, 10))
    for x, n, y in zip(vs.X[..., 0], vs.lengths, vs.Y[:, 0], strict=True):
        assert (x[n:] == 0).all()
        assert y == (x[:n] == -1).any()
    where = vs.minus_one_at()
    assert ((where >= 0) == vs.Y[:, 0].astype(bool)).all()
    assert (where < vs.lengths).all()
    save_valset(vs, tmp_path / "a.npz")
    save_valset(make_valset(400, np.random.default_rng(0), min_len=4, max_len=9), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()  # byte-stable for DVC
    back = load_valset(tmp_path / "a.npz")
    assert all(np.array_equal(getattr(back, k), getattr(vs, k)) for k in ("X", "lengths", "Y"))


def test_load_valset_rejects_foreign_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="junk.npz"):
        load_valset(tmp_path / "junk.npz")
    np.savez(tmp_path / "wrong.npz", X=np.zeros((3, 4)), lengths=np.ones(3, dtype=np.int64), Y=np.zeros((3, 1)))
    with pytest.raises(ArtifactError, match="X must be int64"):
        load_valset(tmp_path / "wrong.npz")
    with pytest.raises(ArtifactError, match="missing.npz"):
        load_valset(tmp_path / "missing.npz")
